//! `ballast`: the binary. Everything lives in the crates under src/; this file only hands
//! control to the CLI so that `ballast agent`, `ballast kv ...` and friends share one entry.
fn main() {
    std::process::exit(ballast_cli::main());
}
