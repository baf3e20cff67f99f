//! Pure rules, free of signals and I/O so unit tests reach them: most are shared by the browser
//! (instant feedback) and the server (the check that counts); `draft` is the browser editor's model.

pub mod diff;
pub mod dotenv;
pub mod draft;
pub mod keys;
pub mod limits;
pub mod tar;
