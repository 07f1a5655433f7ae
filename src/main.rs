//! The `rkdump` binary: parses the command line and hands over to the library.

use clap::Parser;
use rkdump::cli::{line_loop, open_session, run_one, Cli};
use rkdump::commands::Registry;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    colored::control::set_override(color);
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rkdump: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(mut cli: Cli) -> anyhow::Result<ExitCode> {
    if cli.files.first().is_some_and(|f| f.as_os_str() == "demo") {
        let (vmlinux, vmcore) = rkdump::demo::prepare(cli.quiet)?;
        cli.files = vec![vmlinux, vmcore];
    }
    let [a, b] = cli.files.as_slice() else {
        anyhow::bail!("expected VMLINUX and VMCORE (see --help)");
    };
    let session = open_session(a, b)?;
    let reg = Registry::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    if !cli.commands.is_empty() {
        let mut ok = true;
        for c in &cli.commands {
            ok &= run_one(&reg, &session, c, &mut out, &mut err);
        }
        out.flush()?;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let interactive = std::io::stdin().is_terminal();
    if !interactive {
        let stdin = std::io::stdin();
        line_loop(&reg, &session, &mut stdin.lock(), &mut out, &mut err, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !cli.quiet {
        writeln!(
            out,
            "rkdump {} — help lists the commands, TAB completes, q quits\n",
            env!("CARGO_PKG_VERSION")
        )?;
        run_one(&reg, &session, "sys", &mut out, &mut err);
        writeln!(out)?;
    }
    drop(out);
    rkdump::repl::run(&session, &reg)?;
    Ok(ExitCode::SUCCESS)
}
