//! Building strings without `core::fmt`: `format!` and `to_string` on
//! numbers pull the formatting machinery into the wasm.

use crate::prelude::*;

/// The parts, joined.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// Decimal digits of `n`.
pub(crate) fn u64_str(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// Decimal digits of `n`, with a minus sign when negative.
pub(crate) fn i64_str(n: i64) -> String {
    let digits = u64_str(n.unsigned_abs());
    if n < 0 {
        concat(&["-", &digits])
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn numbers_print_like_display() {
        for n in [0, 7, 10, 4800, u64::MAX] {
            assert_eq!(u64_str(n), n.to_string());
        }
        for n in [0, -1, 1_700_000_000_000, i64::MIN, i64::MAX] {
            assert_eq!(i64_str(n), n.to_string());
        }
        assert_eq!(concat(&["a", "", "bc"]), "abc");
    }
}
