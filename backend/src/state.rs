use std::sync::Arc;

use gridwork_mobile_core::domain::area::NoAreas;

use crate::config::Settings;
use crate::db::Db;

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The area tree that scope checks resolve against. Until the area map is loaded nothing is
    /// inside anything else, so scoped roles see only their own area (deny by default).
    pub fn areas(&self) -> NoAreas {
        NoAreas
    }
}
