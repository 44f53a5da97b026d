DROP TABLE bank_payments;
DROP TABLE written_demands;
