//! The `guest-reset` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    guest_reset::cli::main()
}
