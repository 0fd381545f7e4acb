use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::login_throttle;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle, primary_key(key))]
#[diesel(treat_none_as_null = true)]
pub struct LoginThrottle {
    pub key: String,
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}
