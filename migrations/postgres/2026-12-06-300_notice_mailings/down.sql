DROP TABLE notice_mailings;
