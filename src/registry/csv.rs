//! CSV cells and lines as every export writes them (RFC 4180, CRLF), for Chinese Excel.

/// One cell: quoted when it holds a comma, quote or line break. A text starting with
/// `=`, `+`, `-` or `@` gets a leading apostrophe, or Excel would evaluate an
/// employer's name as a formula (CSV injection); numbers are left as they are.
pub fn field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_field(&mut out, s);
    out
}

/// [`field`] appended to `out`: large exports write every cell of a line into one
/// buffer instead of allocating a string per cell.
pub fn push_field(out: &mut String, s: &str) {
    let formula_like =
        s.starts_with(['=', '+', '-', '@']) && s.parse::<rust_decimal::Decimal>().is_err();
    let quoted = s.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula_like {
        out.push('\'');
    }
    if quoted {
        for (i, part) in s.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// One line of cells, ended by CRLF.
pub fn line(cells: &[&str]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| field(c)).collect();
    format!("{}\r\n", cells.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(field("三门峡"), "三门峡");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1 call"), "'+1 call");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-12.50"), "-12.50");
        assert_eq!(line(&["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }
}
