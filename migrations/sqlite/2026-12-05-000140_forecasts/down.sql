DROP TABLE forecasts;
