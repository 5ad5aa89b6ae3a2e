//! `syncsim`: the command-line front of the certification suite.

fn main() {
    eprintln!("syncsim: the `list`, `run` and `certify` commands arrive with the simulation harness; see README.md");
    std::process::exit(2);
}
