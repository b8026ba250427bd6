//! Typing of plain scalars.
//!
//! The API server reads manifests with `sigs.k8s.io/yaml`, whose YAML-to-JSON step follows
//! go-yaml v2 and so YAML 1.1: `yes`/`on` are booleans, `0644` is octal and `1_000` is an
//! integer. kgate types scalars the same way, so that `privileged: yes` is `true` for a
//! policy exactly as it is for the cluster.

use super::Value;

pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Value::String(s.to_owned());
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(i) = parse_int(&plain) {
        return Value::Int(i);
    }
    // Go's ParseUint: a decimal beyond i64 that still fits 64 bits stays an exact integer.
    // (A leading 0 means octal to Go, so "08" is not an integer at all.)
    if !plain.starts_with('0')
        && plain.bytes().all(|b| b.is_ascii_digit())
        && let Ok(u) = plain.parse::<u64>()
    {
        return Value::Uint(u);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(s.to_owned())
}

/// go-yaml v3's typing (kustomize's inputs): YAML 1.1 words like `yes`, `on`, `y` stay
/// strings; an unquoted `YYYY-MM-DD` date is a timestamp, which kustomize writes out as
/// RFC 3339 (`2024-01-01T00:00:00Z`).
pub(crate) fn resolve_plain_v3(s: &str) -> Value {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO"
        | "off" | "Off" | "OFF" => return Value::String(s.to_owned()),
        _ => {}
    }
    if is_date(s) {
        return Value::String(format!("{s}T00:00:00Z"));
    }
    resolve_plain(s)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Resolves a scalar carrying an explicit core-schema tag (`!!str`, `!!int`, ...).
pub(crate) fn resolve_tagged(s: &str, suffix: &str) -> Value {
    match suffix {
        "int" | "float" | "bool" | "null" => match resolve_plain(s) {
            Value::String(_) => Value::String(s.to_owned()),
            v => v,
        },
        _ => Value::String(s.to_owned()),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b` or a leading `0`
/// (octal) prefix, else decimal.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, rest)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && matches!(b[i], b'+' | b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        assert_eq!(resolve_plain("yes"), Value::Bool(true));
        assert_eq!(resolve_plain("Off"), Value::Bool(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("nope"), Value::String("nope".into()));
    }

    #[test]
    fn go_style_integers() {
        assert_eq!(resolve_plain("0644"), Value::Int(0o644));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("-0b101"), Value::Int(-5));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("08"), Value::Float(8.0));
        assert_eq!(resolve_plain("3"), Value::Int(3));
    }

    #[test]
    fn floats_and_strings() {
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("1.2.3"), Value::String("1.2.3".into()));
        assert_eq!(resolve_plain("500m"), Value::String("500m".into()));
        assert_eq!(resolve_plain("-"), Value::String("-".into()));
        assert_eq!(resolve_plain("."), Value::String(".".into()));
        assert_eq!(resolve_plain("99999999999999999999"), Value::Float(1e20));
        assert_eq!(
            resolve_plain("12345678901234567890"),
            Value::Uint(12345678901234567890)
        );
    }

    #[test]
    fn go_yaml_v3_typing() {
        assert_eq!(resolve_plain_v3("yes"), Value::String("yes".into()));
        assert_eq!(resolve_plain_v3("true"), Value::Bool(true));
        assert_eq!(resolve_plain_v3("0644"), Value::Int(420));
        assert_eq!(
            resolve_plain_v3("2024-01-01"),
            Value::String("2024-01-01T00:00:00Z".into())
        );
    }

    #[test]
    fn tags_force_types() {
        assert_eq!(resolve_tagged("yes", "str"), Value::String("yes".into()));
        assert_eq!(resolve_tagged("10", "int"), Value::Int(10));
    }
}
