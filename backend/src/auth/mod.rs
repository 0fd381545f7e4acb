//! Authentication: password hashing, session tokens, login throttling and the `Caller` extractor.

pub mod caller;
pub mod password;
pub mod throttle;
pub mod token;

pub use caller::Caller;
