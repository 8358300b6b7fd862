//! Where to go after signing in: only ever a path on this site.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPath(String);

impl NextPath {
    /// `None` for anything that could leave the site: `//host`, `/\host`, `https://host`,
    /// encoded variants of those, control characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let decoded = percent_decode(raw)?;
        let safe = |s: &str| {
            s.starts_with('/')
                && !s.starts_with("//")
                && !s.starts_with("/\\")
                && !s.contains('\\')
                && !s.chars().any(|c| c.is_control() || c.is_whitespace())
        };
        // Check the raw value and its decoding (twice, for double encoding) alike.
        let twice = percent_decode(&decoded)?;
        if safe(raw) && safe(&decoded) && safe(&twice) && raw.len() <= 500 {
            Some(Self(raw.to_string()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        assert_eq!(
            NextPath::parse("/workspaces?x=1").unwrap().as_str(),
            "/workspaces?x=1"
        );
    }

    #[test]
    fn anything_leaving_the_site_is_refused() {
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "%2F%2Fevil.example",
            "/%2Fevil.example",
            "/%252F%252Fevil.example",
            "evil.example",
            "/%5Cevil.example",
            "/\tfoo",
            "",
        ] {
            assert!(NextPath::parse(bad).is_none(), "{bad}");
        }
    }
}
