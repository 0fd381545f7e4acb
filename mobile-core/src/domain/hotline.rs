//! The 12345 hotline (市民热线): what others than ops staff see of a caller, and when a caller is
//! called back (回访). Pure, so the phone shows callers exactly as the server would.

use super::error::DomainError;
use super::event::EventState;

/// A phone number as everyone but ops staff sees it: the first three and last four digits
/// (`138****5678`); shorter numbers keep only their last two.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let (head, tail) = if n >= 8 { (3, 4) } else { (0, n.min(2)) };
    digits.iter().enumerate().map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' }).collect()
}

/// A name as everyone but ops staff sees it: its first character (`张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A caller is called back once, after their case is closed (or not accepted).
pub fn may_call_back(state: EventState, called_back: bool) -> Result<(), DomainError> {
    if called_back {
        return Err(DomainError::new("satisfied", "already_decided", "the caller was called back already".to_owned()));
    }
    if !matches!(state, EventState::Closed | EventState::Rejected) {
        return Err(DomainError::new(
            "satisfied",
            "case_open",
            format!("the case is {state}: call back once it is closed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_are_masked_for_everyone_else() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "861******5678");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(" Li "), "L*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn a_caller_is_called_back_once_after_closing() {
        assert!(may_call_back(EventState::Closed, false).is_ok());
        assert!(may_call_back(EventState::Rejected, false).is_ok());
        assert_eq!(may_call_back(EventState::InProgress, false).unwrap_err().code, "case_open");
        assert_eq!(may_call_back(EventState::Closed, true).unwrap_err().code, "already_decided");
    }
}
