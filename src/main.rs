use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

// polars' own builds use a fast allocator; the pipeline allocates many short strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    listaudit::memory::configure();
    let cli = listaudit::cli::Cli::parse();
    match listaudit::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {error}");
            for cause in error.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            listaudit::exit_status_of(&error).into()
        }
    }
}
