//! A Kustomize folder as one download: a POSIX ustar archive of text files, built in memory so
//! the onboarding page can offer "Download folder" without a server round trip or a URL holding
//! the files. Entries are plain files under one folder, mode 0644, time 0 (the same form gives
//! the same bytes). Every byte is ASCII when the names and texts are, which the onboarding
//! renderer guarantees (its names are Kubernetes names, its strings JSON-escaped), so the archive
//! travels as a `String`.

const BLOCK: usize = 512;

/// The archive of `files` (name, text) under `folder/`; `None` when a name does not fit ustar's
/// 100 bytes or a byte is not ASCII.
pub fn ustar(folder: &str, files: &[(String, String)]) -> Option<String> {
    let mut out: Vec<u8> = Vec::new();
    for (name, text) in files {
        let path = format!("{folder}/{name}");
        if path.len() > 99 || !path.is_ascii() || !text.is_ascii() {
            return None;
        }
        let mut header = [0u8; BLOCK];
        let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, path.as_bytes());
        put(100, b"0000644\0");
        put(108, b"0000000\0");
        put(116, b"0000000\0");
        put(124, format!("{:011o}\0", text.len()).as_bytes());
        put(136, b"00000000000\0");
        put(148, b"        ");
        put(156, b"0");
        put(257, b"ustar\0");
        put(263, b"00");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(text.as_bytes());
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_reads_the_archive_back_file_for_file() {
        let files = vec![
            ("a.yaml".to_owned(), "kind: A\n".to_owned()),
            (
                "kustomization.yaml".to_owned(),
                "resources:\n  - a.yaml\n".repeat(40),
            ),
        ];
        let archive = ustar("billing", &files).unwrap();
        assert_eq!(archive.len() % BLOCK, 0);
        let dir = std::env::temp_dir().join(format!("keyway-tar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f.tar");
        std::fs::write(&file, archive.as_bytes()).unwrap();
        let status = std::process::Command::new("tar")
            .arg("-xf")
            .arg(&file)
            .arg("-C")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        for (name, text) in &files {
            let read = std::fs::read_to_string(dir.join("billing").join(name)).unwrap();
            assert_eq!(&read, text);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_name_or_text_ustar_cannot_hold_is_refused() {
        let long = "x".repeat(100);
        assert!(ustar("f", &[(long, String::new())]).is_none());
        assert!(ustar("f", &[("a".into(), "é".into())]).is_none());
    }
}
