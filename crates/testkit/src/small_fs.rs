//! A small file system of its own for a test: a `tmpfs` of a given size mounted at a new
//! folder, to fill a disk for real. Growing it (`grow`) is freeing space; it is unmounted
//! and its folder removed on drop.
//!
//! Mounting needs the right to mount (root, or `CAP_SYS_ADMIN`). Without it the test
//! fails with a message that says so: a disk-full test must never pass without a full disk.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// A mounted `tmpfs`; unmounted on drop.
pub struct SmallFs {
    dir: PathBuf,
}

impl SmallFs {
    /// Mount a `tmpfs` of `bytes` (rounded up to whole pages by the kernel) at a new
    /// folder under the system's temporary folder. Panics, naming the command and its
    /// output, when it cannot be mounted.
    pub fn mount(bytes: u64) -> SmallFs {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "virnucpro-small-fs-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let size = format!("size={bytes}");
        if let Err(message) = run("mount", &["-t", "tmpfs", "-o", &size, "tmpfs"], &dir) {
            let _ = std::fs::remove_dir(&dir);
            panic!(
                "this test needs a small file system of its own and cannot mount one \
                 (run it as root or with CAP_SYS_ADMIN): {message}"
            );
        }
        SmallFs { dir }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Resize it to `bytes`, keeping its files.
    pub fn grow(&self, bytes: u64) {
        let options = format!("remount,size={bytes}");
        if let Err(message) = run("mount", &["-o", &options], &self.dir) {
            panic!("cannot resize the small file system: {message}");
        }
    }

    /// Bytes in use (statfs: blocks used × block size).
    pub fn used(&self) -> u64 {
        let out = Command::new("stat")
            .args(["-f", "-c", "%S %b %f"])
            .arg(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run stat -f: {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        let numbers: Vec<u64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        match numbers[..] {
            [block, total, free] => (total - free) * block,
            _ => panic!("unexpected output of stat -f: {text:?}"),
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        if let Err(message) = run("umount", &[], &self.dir) {
            eprintln!("cannot unmount the small file system: {message}");
            return;
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Run `program args... dir`; the error is the command line and its output.
fn run(program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    let line = format!("{program} {} {}", args.join(" "), dir.display());
    match Command::new(program).args(args).arg(dir).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{line}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run `{line}`: {e}")),
    }
}
