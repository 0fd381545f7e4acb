//! Pages of a list the server orders in memory (nearest first, due soonest first), where no
//! column gives a stable cursor: the cursor is the offset of the next page.

use crate::error::{ApiError, ApiResult};

/// Which slice of the ordered list to answer.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: i64,
    offset: usize,
}

impl Window {
    /// `limit` 1 to 200 (default 50); `cursor` the `next` of the previous page.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 200"));
        }
        let offset = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| ApiError::field("cursor", "invalid", "pass the `next` value of the previous page"))?,
        };
        Ok(Self { limit, offset })
    }

    /// This window of `items`, and the cursor of the next one if more follow.
    pub fn take<T>(&self, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let total = items.len();
        let page: Vec<T> =
            items.into_iter().skip(self.offset).take(usize::try_from(self.limit).unwrap_or(50)).collect();
        let end = self.offset + page.len();
        (page, (end < total).then(|| end.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_walk_the_list_once() {
        let w = Window::parse(Some(2), None).unwrap();
        assert_eq!(w.take(vec![1, 2, 3, 4, 5]), (vec![1, 2], Some("2".to_owned())));
        let w = Window::parse(Some(2), Some("4")).unwrap();
        assert_eq!(w.take(vec![1, 2, 3, 4, 5]), (vec![5], None));
        assert_eq!(Window::parse(None, Some("9")).unwrap().take(vec![1]), (vec![], None));
        assert!(Window::parse(Some(0), None).is_err());
        assert!(Window::parse(Some(201), None).is_err());
        assert!(Window::parse(None, Some("x")).is_err());
    }
}
