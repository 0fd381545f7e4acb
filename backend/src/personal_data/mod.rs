//! Data subject rights (个人信息主体权利): a person's copy of what Gridwork holds about them
//! (`export`) and its erasure at their request (`erasure`).

pub mod erasure;
pub mod export;
