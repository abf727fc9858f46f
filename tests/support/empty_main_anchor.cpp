// Keeps an executable buildable while its folder holds no test yet.
