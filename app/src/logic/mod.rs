//! Pure rules shared by the browser (instant feedback) and the server (the check that counts).

pub mod diff;
pub mod dotenv;
pub mod draft;
pub mod keys;
