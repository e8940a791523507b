//! Splitting one command line (the bytes between `AT` and `\r`) into commands.
//!
//! V.25ter allows several commands on one line: basic ones run together (`ATE0V1&D2`)
//! and extended ones separated by `;` (`AT+CIPHEAD=0;+CIPSRIP=0`). Each extended command
//! comes in four forms: Test `=?`, Read `?`, Write `=<args>` and Execute.

/// The form a command was given in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Form {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Read,
    /// `AT+X=<args>`
    Write(Vec<Arg>),
    /// `AT+X`, or a basic command such as `ATE1` (its number is the only argument).
    Execute,
}

/// One parameter of a Write form.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Arg {
    /// The text: the content of a quoted string, or the trimmed unquoted text.
    pub text: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
}

impl Arg {
    /// An empty field (`AT+X=1,,3` has one in the middle).
    pub fn is_empty(&self) -> bool {
        !self.quoted && self.text.is_empty()
    }

    /// The value as an unsigned number, if it is one written without quotes.
    pub fn uint(&self) -> Option<u64> {
        if self.quoted || self.text.is_empty() || self.text.len() > 18 {
            return None;
        }
        if !self.text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.text.parse().ok()
    }

    /// The value as a number in `range`, if it is one.
    pub fn in_range(&self, range: std::ops::RangeInclusive<u64>) -> Option<u64> {
        self.uint().filter(|v| range.contains(v))
    }

    /// The value as a string, quoted or not.
    pub fn str(&self) -> &str {
        &self.text
    }
}

/// The prefix of an argument given as `{non-ascii}"<hex>"` (see [`Arg::non_ascii_hex`]).
pub const NON_ASCII: &str = "{non-ascii}";

impl Arg {
    /// The hex digits of an argument written `{non-ascii}"<hex>"`, if it was.
    pub fn non_ascii_hex(&self) -> Option<&str> {
        if self.quoted {
            return None;
        }
        self.text.strip_prefix(NON_ASCII)
    }
}

/// One parsed command.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Command {
    /// Upper-case name with its prefix: `+CIPOPEN`, `&D`, `E`, `S0`.
    pub name: String,
    /// For basic commands, the number after the letter (`ATE0` -> Some(0)).
    pub number: Option<u64>,
    /// The form.
    pub form: Form,
}

/// Why a line could not be parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SyntaxError;

/// Parses the text after `AT` into commands.
pub fn parse_line(body: &[u8]) -> Result<Vec<Command>, SyntaxError> {
    let mut p = Parser { s: body, i: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_spaces();
        let Some(c) = p.peek() else { break };
        match c {
            b'+' | b'$' | b'^' => {
                out.push(p.extended()?);
                p.skip_spaces();
                match p.peek() {
                    None => break,
                    Some(b';') => p.i += 1,
                    Some(_) => return Err(SyntaxError),
                }
            }
            b';' => p.i += 1,
            b'&' => {
                p.i += 1;
                let letter = p.letter()?;
                let number = p.number();
                out.push(Command {
                    name: format!("&{}", letter as char),
                    number,
                    form: Form::Execute,
                });
            }
            b'S' | b's' => out.push(p.s_register()?),
            c if c.is_ascii_alphabetic() => {
                p.i += 1;
                let number = p.number();
                out.push(Command {
                    name: (c.to_ascii_uppercase() as char).to_string(),
                    number,
                    form: Form::Execute,
                });
            }
            _ => return Err(SyntaxError),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn letter(&mut self) -> Result<u8, SyntaxError> {
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() => {
                self.i += 1;
                Ok(c.to_ascii_uppercase())
            }
            _ => Err(SyntaxError),
        }
    }

    fn number(&mut self) -> Option<u64> {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if digits.is_empty() {
            None
        } else {
            // An absurdly long number saturates; the handler rejects it as out of range.
            Some(digits.parse().unwrap_or(u64::MAX))
        }
    }

    /// `S<n>?` reads a register, `S<n>=<v>` writes it.
    fn s_register(&mut self) -> Result<Command, SyntaxError> {
        self.i += 1;
        let n = self.number().ok_or(SyntaxError)?;
        let name = format!("S{n}");
        let form = match self.peek() {
            Some(b'?') => {
                self.i += 1;
                Form::Read
            }
            Some(b'=') => {
                self.i += 1;
                if self.peek() == Some(b'?') {
                    self.i += 1;
                    Form::Test
                } else {
                    let v = self.number().ok_or(SyntaxError)?;
                    Form::Write(vec![Arg {
                        text: v.to_string(),
                        quoted: false,
                    }])
                }
            }
            _ => Form::Execute,
        };
        Ok(Command {
            name,
            number: Some(n),
            form,
        })
    }

    fn extended(&mut self) -> Result<Command, SyntaxError> {
        let start = self.i;
        self.i += 1;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        if self.i == start + 1 {
            return Err(SyntaxError);
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_uppercase();
        self.skip_spaces();
        let form = match self.peek() {
            Some(b'?') => {
                self.i += 1;
                Form::Read
            }
            Some(b'=') => {
                self.i += 1;
                self.skip_spaces();
                if self.peek() == Some(b'?') {
                    self.i += 1;
                    Form::Test
                } else {
                    Form::Write(self.args()?)
                }
            }
            _ => Form::Execute,
        };
        Ok(Command {
            name,
            number: None,
            form,
        })
    }

    /// `{non-ascii}"<hex>"`, SIMCom's way of giving a non-ASCII string as the hex of its
    /// UTF-8 bytes (file names of `ssl.md` §3.1): kept unquoted as `{non-ascii}<hex>`
    /// for the command to decode, since a bare argument can hold no `"` otherwise.
    fn non_ascii(&mut self) -> Result<Option<Arg>, SyntaxError> {
        const TAG: &[u8] = b"{non-ascii}";
        let rest = &self.s[self.i..];
        if rest.len() <= TAG.len()
            || !rest[..TAG.len()].eq_ignore_ascii_case(TAG)
            || rest[TAG.len()] != b'"'
        {
            return Ok(None);
        }
        self.i += TAG.len() + 1;
        let hex = self.quoted_rest()?;
        Ok(Some(Arg {
            text: format!("{NON_ASCII}{hex}"),
            quoted: false,
        }))
    }

    /// The rest of a quoted string whose opening `"` was read, and the spaces after it.
    fn quoted_rest(&mut self) -> Result<String, SyntaxError> {
        let start = self.i;
        while self.peek().is_some_and(|c| c != b'"') {
            self.i += 1;
        }
        if self.peek() != Some(b'"') {
            return Err(SyntaxError);
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        self.skip_spaces();
        Ok(text)
    }

    /// Comma-separated parameters up to `;` or the end of the line.
    fn args(&mut self) -> Result<Vec<Arg>, SyntaxError> {
        let mut args = Vec::new();
        loop {
            self.skip_spaces();
            let arg = if let Some(arg) = self.non_ascii()? {
                arg
            } else if self.peek() == Some(b'"') {
                self.i += 1;
                let text = self.quoted_rest()?;
                Arg { text, quoted: true }
            } else {
                let start = self.i;
                while self.peek().is_some_and(|c| c != b',' && c != b';') {
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i])
                    .trim()
                    .to_string();
                if text.contains('"') {
                    return Err(SyntaxError);
                }
                Arg {
                    text,
                    quoted: false,
                }
            };
            args.push(arg);
            match self.peek() {
                Some(b',') => self.i += 1,
                None | Some(b';') => return Ok(args),
                Some(_) => return Err(SyntaxError),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Command {
        let mut v = parse_line(line.as_bytes()).expect("parses");
        assert_eq!(v.len(), 1, "{line}");
        v.remove(0)
    }

    #[test]
    fn empty_line_is_no_command() {
        assert_eq!(parse_line(b""), Ok(vec![]));
    }

    #[test]
    fn four_forms_of_an_extended_command() {
        assert_eq!(one("+CIPOPEN=?").form, Form::Test);
        assert_eq!(one("+cipopen?").form, Form::Read);
        assert_eq!(one("+NETOPEN").form, Form::Execute);
        let Form::Write(args) = one(r#"+CIPOPEN=1,"TCP","117.131.85.139",5253"#).form else {
            panic!("write form")
        };
        assert_eq!(args.len(), 4);
        assert_eq!(args[1].str(), "TCP");
        assert!(args[1].quoted);
        assert_eq!(args[3].uint(), Some(5253));
    }

    #[test]
    fn empty_fields_and_spaces_after_commas() {
        let Form::Write(args) = one(r#"+CIPOPEN=1, "UDP",,,5000"#).form else {
            panic!()
        };
        assert!(args[2].is_empty() && args[3].is_empty());
        assert_eq!(args[4].uint(), Some(5000));
        let Form::Write(args) = one("+SERVERSTART=8080, 0").form else {
            panic!()
        };
        assert_eq!(args[1].uint(), Some(0));
    }

    #[test]
    fn basic_commands_run_together() {
        let v = parse_line(b"E0V1&D2").expect("parses");
        let names: Vec<_> = v.iter().map(|c| (c.name.as_str(), c.number)).collect();
        assert_eq!(names, [("E", Some(0)), ("V", Some(1)), ("&D", Some(2))]);
    }

    #[test]
    fn extended_commands_separated_by_semicolons() {
        let v = parse_line(b"+CIPHEAD=0;+CIPSRIP=0;E0").expect("parses");
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].name, "E");
    }

    #[test]
    fn quoted_semicolon_stays_in_the_string() {
        let Form::Write(args) = one(r#"+CGDCONT=1,"IP","a;b""#).form else {
            panic!()
        };
        assert_eq!(args[2].str(), "a;b");
    }

    #[test]
    fn non_ascii_hex_argument() {
        let Form::Write(args) = one(r#"+CCERTDOWN={NON-ASCII}"E4B8AD2E70656D",10"#).form else {
            panic!()
        };
        assert_eq!(args[0].non_ascii_hex(), Some("E4B8AD2E70656D"));
        assert_eq!(args[1].uint(), Some(10));
        assert_eq!(parse_line(br#"+X={non-ascii}"AB"#), Err(SyntaxError));
    }

    #[test]
    fn s_registers() {
        assert_eq!(one("S3?").form, Form::Read);
        assert_eq!(one("S0=2").name, "S0");
    }

    #[test]
    fn malformed_lines_are_syntax_errors() {
        for bad in ["+", "+CIPOPEN=\"TCP", "+CSQ x", "#", "+X=1\"2\""] {
            assert_eq!(parse_line(bad.as_bytes()), Err(SyntaxError), "{bad}");
        }
    }

    #[test]
    fn numbers_reject_signs_quotes_and_letters() {
        let arg = |t: &str, q| Arg {
            text: t.into(),
            quoted: q,
        };
        assert_eq!(arg("-1", false).uint(), None);
        assert_eq!(arg("12", true).uint(), None);
        assert_eq!(arg("1a", false).uint(), None);
        assert_eq!(arg("99999999999999999999", false).uint(), None);
        assert_eq!(arg("7", false).in_range(0..=3), None);
    }
}
