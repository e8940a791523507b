//! Every `at7600 ...` command in the README's and docs' shell blocks is one the
//! installed program accepts as written (flags, values, subcommands), and every fault
//! given to `ctl fault` is a fault the daemon takes.
use at7600::cli::{Cli, Command, CtlAction};
use clap::Parser;
use std::path::Path;

/// Shell words of a simple command line: quotes group, `#` starts a comment, and a
/// redirection or pipe ends the command.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '#' | '>' | '|' | '&') => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The `at7600 ...` lines of the ```sh blocks of a Markdown file.
fn commands(text: &str) -> Vec<String> {
    let mut inside = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside && line.trim_start() == "```sh";
            continue;
        }
        if inside && line.starts_with("at7600 ") {
            found.push(line.to_string());
        }
    }
    found
}

#[test]
fn every_documented_command_line_parses_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        files.push(entry.expect("entry").path());
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for line in commands(&text) {
            let cli = Cli::try_parse_from(words(&line))
                .unwrap_or_else(|e| panic!("{}: {line}\n{e}", file.display()));
            if let Command::Ctl(ctl) = cli.command {
                if let CtlAction::Fault { json, .. } = ctl.action {
                    serde_json::from_str::<at7600_net::Fault>(&json)
                        .unwrap_or_else(|e| panic!("{}: {line}: {e}", file.display()));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} commands found");
}

#[test]
fn shell_words_split_as_a_shell_would() {
    assert_eq!(
        words(r#"at7600 ctl fault 1 '{"kind":"stall"}'   # why"#),
        ["at7600", "ctl", "fault", "1", r#"{"kind":"stall"}"#]
    );
    assert_eq!(
        words("at7600 generate man > x.1"),
        ["at7600", "generate", "man"]
    );
}
