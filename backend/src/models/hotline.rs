use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::hotline_calls;

/// A call to the 12345 hotline and its callback (回访).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = hotline_calls)]
pub struct CallRow {
    pub id: String,
    /// The hotline system's reference number of the call.
    pub reference: String,
    pub event_id: String,
    /// Personal data: none once purged.
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub filed_by: String,
    pub created_at: NaiveDateTime,
    pub callback_at: Option<NaiveDateTime>,
    pub callback_by: Option<String>,
    pub satisfied: Option<bool>,
    pub callback_note: Option<String>,
    pub purged_at: Option<NaiveDateTime>,
}
