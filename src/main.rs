fn main() -> std::process::ExitCode {
    mlstack::cli::main()
}
