//! Masking of personal data for public pages (D1): names and numbers are shown in part only.

/// Masks a person's name: the first character stays (张**), as government portals do.
pub fn name(s: &str) -> String {
    let mut chars = s.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// Masks an identity or phone number: the first 3 and last 4 characters stay when long enough.
pub fn number(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    if n <= 7 {
        return format!(
            "{}{}",
            "*".repeat(n - 2),
            chars[n - 2..].iter().collect::<String>()
        );
    }
    format!(
        "{}{}{}",
        chars[..3].iter().collect::<String>(),
        "*".repeat(n - 7),
        chars[n - 4..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::name("张三丰"), "张**");
        assert_eq!(super::name("李"), "李*");
        assert_eq!(super::number("410802199001011234"), "410***********1234");
        assert_eq!(super::number("13903910000"), "139****0000");
        assert_eq!(super::number("123"), "***");
    }
}
