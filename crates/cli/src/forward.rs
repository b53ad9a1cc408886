//! Handing the commands that run a model to `virnucpro-torch`, the binary beside this one
//! that links libtorch, so that the front never loads it (see lib.rs).
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::exit;

/// The file name of the binary that runs the models, beside `virnucpro`.
pub const TORCH_BINARY: &str = "virnucpro-torch";

/// The commands `virnucpro-torch` runs.
pub const MODEL_COMMANDS: [&str; 5] = ["predict", "classify", "embed", "devices", "runtime"];

/// A command whose arguments the front does not parse: they go as they are.
#[derive(clap::Args)]
pub struct Forwarded {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// Whether the command line (program name first) names a command that runs a model, as
/// `virnucpro [-v|-q…] predict …` or `virnucpro help predict`. Top-level help and version
/// flags before any command stay with the front.
pub fn runs_a_model(args: &[OsString]) -> bool {
    let mut words = args.iter().skip(1).map(|arg| arg.to_str());
    let mut asked_help = false;
    for word in words.by_ref() {
        match word {
            Some("-h" | "--help" | "-V" | "--version") => return false,
            // The global flags take no value, so any other flag is skipped.
            Some(flag) if flag.starts_with('-') => {}
            Some("help") if !asked_help => asked_help = true,
            Some(command) => return MODEL_COMMANDS.contains(&command),
            None => return false,
        }
    }
    false
}

/// Run `virnucpro-torch` with this process's arguments and return its exit code (on Unix,
/// by replacing this process, so that signals reach it directly and nothing returns).
pub fn to_torch(args: &[OsString]) -> ExitCode {
    let binary = match torch_binary() {
        Ok(binary) => binary,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let program = args
        .first()
        .map_or(OsStr::new("virnucpro"), OsString::as_os_str);
    let mut command = Command::new(&binary);
    command.args(args.iter().skip(1));
    match run(command, program) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: cannot start {}: {err}", binary.display());
            ExitCode::from(exit::FAILED)
        }
    }
}

/// Where `virnucpro-torch` is looked for, relative to the folder of `virnucpro`: beside it
/// (a build's target folder), then in the packages' `lib/virnucpro` (scripts/package-cli.sh;
/// only `virnucpro` is on the PATH).
const TORCH_PLACES: [&str; 2] = [".", "../lib/virnucpro"];

/// The `virnucpro-torch` that belongs to the running binary, or why there is none.
fn torch_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe()
        .map_err(|err| format!("cannot tell where virnucpro is installed: {err}"))?;
    let dir = me.parent().map(PathBuf::from).unwrap_or_default();
    let name = format!("{TORCH_BINARY}{}", std::env::consts::EXE_SUFFIX);
    let places: Vec<PathBuf> = TORCH_PLACES
        .iter()
        .map(|p| dir.join(p).join(&name))
        .collect();
    if let Some(found) = places.iter().find(|path| path.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "{name} is missing (looked for {}): the commands that run a model ({}) need it; \
         reinstall the package",
        looked.join(" and "),
        MODEL_COMMANDS.join(", ")
    ))
}

/// Replace this process; `Err` only when that failed. The program name stays the user's,
/// so that the help and usage lines read `virnucpro …`.
#[cfg(unix)]
fn run(mut command: Command, program: &OsStr) -> std::io::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    Err(command.arg0(program).exec())
}

/// Without `exec`: wait for the child, which gets Ctrl-C from the console itself; this
/// process ignores it and returns the child's code.
#[cfg(not(unix))]
fn run(mut command: Command, _program: &OsStr) -> std::io::Result<ExitCode> {
    let _ = ctrlc::set_handler(|| {});
    let status = command.status()?;
    let code = status.code().unwrap_or(i32::from(exit::FAILED));
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(exit::FAILED)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &[&str]) -> Vec<OsString> {
        std::iter::once("virnucpro")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn model_commands_are_found_after_global_flags_and_help() {
        for words in [
            &["predict", "-i", "x"][..],
            &["-v", "classify"],
            &["-vv", "--quiet", "embed", "--help"],
            &["devices"],
            &["runtime", "status"],
            &["help", "predict"],
            &["-q", "help", "runtime", "fetch"],
        ] {
            assert!(runs_a_model(&line(words)), "{words:?}");
        }
    }

    #[test]
    fn other_command_lines_stay_with_the_front() {
        for words in [
            &[][..],
            &["prepare", "predict"],
            &["merge", "-i", "predict"],
            &["models", "list"],
            &["summarize"],
            &["compare", "predict", "classify"],
            &["help"],
            &["help", "prepare"],
            &["help", "help", "predict"],
            &["--help", "predict"],
            &["-V"],
            &["--version", "predict"],
            &["Predict"],
            &["predicts"],
        ] {
            assert!(!runs_a_model(&line(words)), "{words:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_word_that_is_not_unicode_is_not_a_model_command() {
        use std::os::unix::ffi::OsStringExt;
        let args = vec![
            OsString::from("virnucpro"),
            OsString::from_vec(vec![0xff, b'p']),
        ];
        assert!(!runs_a_model(&args));
    }
}
