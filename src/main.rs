//! The `rkdump` binary: parses the command line and hands over to the library.

use clap::Parser;
use rkdump::cli::{open_session, Cli};
use rkdump::script::sandbox::Capabilities;
use rkdump::script::setup::{build_registry, pack_dirs, Shell};
use rkdump::script::ScriptOptions;
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

/// Reads lines from `input` until EOF or `q`, running each like the prompt does.
fn line_loop(
    shell: &mut Shell,
    input: &mut dyn std::io::BufRead,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim();
        if matches!(l, "q" | "quit" | "exit") {
            return Ok(());
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if let Err(e) = shell.run_line(l, &mut out) {
            drop(out);
            if reader_went_away(&e) {
                return Ok(());
            }
            writeln!(err, "{e}")?;
        }
    }
}

/// True when a command failed only because the reader of stdout closed it (`rkdump ... | head`):
/// the output was cut on purpose, so there is nothing to report.
fn reader_went_away(message: &str) -> bool {
    message.contains(&std::io::Error::from(std::io::ErrorKind::BrokenPipe).to_string())
        || message.contains("Broken pipe")
}

fn real_main(mut cli: Cli) -> anyhow::Result<ExitCode> {
    let demo = cli.files.first().is_some_and(|f| f.as_os_str() == "demo");
    if demo {
        let (vmlinux, vmcore) = rkdump::demo::prepare(cli.quiet)?;
        cli.files = vec![vmlinux, vmcore];
    }
    let [a, b] = cli.files.as_slice() else {
        anyhow::bail!("expected VMLINUX and VMCORE (see --help)");
    };
    let caps = Capabilities::parse_all(&cli.allow).map_err(anyhow::Error::msg)?;
    let options = ScriptOptions {
        caps,
        pack_dirs: pack_dirs(&cli.packs),
        json: cli.json,
        ..ScriptOptions::default()
    };
    let session = open_session(a, b)?.into_shared();
    for w in session.open_warnings() {
        eprintln!("rkdump: warning: {w}");
    }
    // Module debuginfo directories; the module table is read here only when some are given.
    if !cli.debuginfo.is_empty() {
        match session.modules() {
            Ok(t) => cli.debuginfo.iter().for_each(|d| t.add_debug_dir(d)),
            Err(e) => eprintln!("rkdump: --debuginfo: {e}"),
        }
    }
    let (registry, warnings) = build_registry(&options);
    for w in warnings {
        eprintln!("rkdump: {w}");
    }
    // The shell (session, mapped files, symbol and type tables) lives until the process ends;
    // the OS reclaims it at exit, faster than freeing its many small allocations one by one.
    let mut shell = std::mem::ManuallyDrop::new(Shell::new(
        session,
        registry,
        options,
        Box::new(std::io::stdout()),
    ));
    let stdout = std::io::stdout();
    let mut err = std::io::stderr();

    if let Some(script) = &cli.script {
        let r = shell.host().run_file(script, &cli.script_args);
        shell.host().print_summary();
        return Ok(match r {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                writeln!(err, "{e}")?;
                ExitCode::from(1)
            }
        });
    }
    if !cli.commands.is_empty() {
        let mut ok = true;
        for c in &cli.commands {
            let mut out = stdout.lock();
            // --json: a command with a structured result prints it; anything else runs as text.
            if cli.json {
                match shell.registry().run_json(shell.session(), c, &mut out) {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        drop(out);
                        writeln!(err, "{e}")?;
                        ok = false;
                        continue;
                    }
                }
            }
            if let Err(e) = shell.run_line(c, &mut out) {
                drop(out);
                if reader_went_away(&e) {
                    return Ok(ExitCode::SUCCESS);
                }
                writeln!(err, "{e}")?;
                ok = false;
            }
        }
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let interactive = std::io::stdin().is_terminal();
    if !interactive {
        let stdin = std::io::stdin();
        line_loop(&mut shell, &mut stdin.lock(), &mut err)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !cli.quiet {
        let mut out = stdout.lock();
        writeln!(
            out,
            "rkdump {} — help lists the commands, TAB completes, q quits\n",
            env!("CARGO_PKG_VERSION")
        )?;
        if let Err(e) = shell.run_line("sys", &mut out) {
            writeln!(err, "{e}")?;
        }
        writeln!(out)?;
        if demo {
            writeln!(out, "{}", rkdump::demo::tour(shell.session()))?;
        }
    }
    rkdump::repl::run(&mut shell)?;
    Ok(ExitCode::SUCCESS)
}
