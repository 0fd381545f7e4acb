//! Photo evidence on the server: uploads (whole or resumable in chunks) run through the same
//! pipeline as the phone (`gridwork_mobile_core::photo`), whatever the client did; the stored
//! JPEG and its thumbnail go to the object store, the database keeps what they are. The same bytes
//! are processed and stored once. After-photos are checked against the event (place, time,
//! metadata) and flagged — not refused — for the verifier and the coordinator; a resolve cites
//! them by id.

pub mod checks;
pub mod intake;
pub mod retention;
pub mod settings;
pub mod store;
pub mod uploads;

pub use intake::{Stored, Target, accept, cite, for_event, view};
pub use settings::{EvidenceSettings, StoreLocation};
pub use store::PhotoStore;
