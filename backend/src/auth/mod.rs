//! Authentication: password hashing, session tokens, login throttling, the `Caller` extractor and
//! the cache of signed-in sessions behind it.

pub mod cache;
pub mod caller;
pub mod password;
pub mod throttle;
pub mod token;

pub use caller::Caller;
