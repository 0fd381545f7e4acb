use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub password_hash: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the account's personal data was erased at the person's request.
    pub erased_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct UserInsertForm {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub password_hash: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserUpdateForm {
    pub display_name: Option<String>,
    pub phone: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub is_active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub use gridwork_mobile_core::wire::UserView;

impl User {
    /// What the API shows of a user. The password hash never leaves the server; the phone
    /// number only to the user themself and to those who manage them (`with_phone`).
    pub fn view(&self, with_phone: bool) -> UserView {
        UserView {
            id: self.id.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            phone: if with_phone { self.phone.clone() } else { None },
            is_active: self.is_active,
            created_at: self.created_at.and_utc(),
        }
    }
}
