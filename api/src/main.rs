//! `pearls`: see `pearls --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tune_allocator();
    let cli = pearls_api::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(pearls_api::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold to the size of the largest block freed so far, so after the
/// first argon2 hash (19 MiB of working memory) later hashes come from the heap arenas and stay
/// resident for good: about 90 MiB after a few logins on two threads (BENCHMARKS.md). A fixed
/// threshold keeps every block of 4 MiB or more in its own mapping, returned when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets a tunable of glibc's allocator; it runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
