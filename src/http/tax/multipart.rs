//! Just enough of `multipart/form-data` (RFC 7578) for the pages' file upload: the
//! parts of a body already read (and bounded by the route's upload limit), each with
//! its name, file name and bytes. Nothing else in the service takes multipart.

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The field's name.
    pub name: String,
    /// The file's name, for a file field.
    pub filename: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

impl Part {
    /// The part as text (a plain field).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// Why a body is not a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// The content type is not `multipart/form-data` with a boundary.
    #[error("not a multipart/form-data body with a boundary")]
    NotMultipart,
    /// The body does not follow its boundary.
    #[error("the form body is malformed")]
    Malformed,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    (0..=hay.len() - needle.len()).find(|&i| hay[i] == first && hay[i..].starts_with(needle))
}

/// The boundary named by a `Content-Type` header.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut parts = content_type.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/form-data"))
    {
        return Err(MultipartError::NotMultipart);
    }
    parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or(MultipartError::NotMultipart)
}

/// A `Content-Disposition` parameter's value (`name`, `filename`).
fn param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`, sent with `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let b = boundary(content_type)?;
    let delim = format!("\r\n--{b}").into_bytes();
    let mut pos = if body.starts_with(&delim[2..]) {
        delim.len() - 2
    } else {
        find(body, &delim).ok_or(MultipartError::Malformed)? + delim.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = body.get(pos..).ok_or(MultipartError::Malformed)?;
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(MultipartError::Malformed);
        }
        pos += 2;
        let rest = &body[pos..];
        let head_end = find(rest, b"\r\n\r\n").ok_or(MultipartError::Malformed)?;
        let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| MultipartError::Malformed)?;
        let disposition = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.trim().to_owned())
            .ok_or(MultipartError::Malformed)?;
        let start = pos + head_end + 4;
        let len = find(&body[start..], &delim).ok_or(MultipartError::Malformed)?;
        parts.push(Part {
            name: param(&disposition, "name").ok_or(MultipartError::Malformed)?,
            filename: param(&disposition, "filename"),
            data: body[start..start + len].to_vec(),
        });
        pos = start + len + delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_with_a_file_and_a_field_is_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bank.csv\"\r\nContent-Type: text/csv\r\n\r\nuscc,amount\r\n1,2\r\n\r\n--XyZ--\r\n";
        let parts = parse("multipart/form-data; boundary=XyZ", body).unwrap_or_default();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf_token");
        assert_eq!(parts[0].text(), Some("abc"));
        assert_eq!(parts[1].filename.as_deref(), Some("bank.csv"));
        assert_eq!(parts[1].data, b"uscc,amount\r\n1,2\r\n");
    }

    #[test]
    fn what_is_not_a_form_is_refused() {
        assert_eq!(
            parse("application/x-www-form-urlencoded", b"a=b"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(
            parse("multipart/form-data; boundary=Q", b"--Q\r\nno headers end"),
            Err(MultipartError::Malformed)
        );
        assert_eq!(
            parse("multipart/form-data; boundary=\"Q\"", b"--Q--\r\n"),
            Ok(Vec::new())
        );
    }
}
