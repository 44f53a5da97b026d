DROP TABLE activation_invitations;
DROP TABLE sign_in_throttle;
DROP TABLE sessions;
DROP TABLE users;
