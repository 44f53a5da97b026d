DROP TABLE reserved_positions;
DROP TABLE reward_payouts;
DROP TABLE reward_decisions;
