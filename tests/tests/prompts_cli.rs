//! `dialer prompts say`: hear or read any rendering before a campaign.

use std::time::Duration;

use dialer_tests::{dialer, repo_root, text};

fn say(args: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir();
    let mut all = vec!["prompts", "say"];
    all.extend_from_slice(args);
    dialer(&dir, &all, Duration::from_secs(60))
}

fn line(args: &[&str]) -> String {
    let out = say(args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

#[test]
fn text_prints_the_words_on_one_line() {
    assert_eq!(
        line(&["--lang", "es-MX", "currency", "1234.50", "MXN", "--text"]),
        "mil doscientos treinta y cuatro pesos con cincuenta centavos"
    );
    assert_eq!(
        line(&["--lang", "es-MX", "date", "15/12/2026", "full", "--text"]),
        "el quince de diciembre de dos mil veintiséis"
    );
    assert_eq!(
        line(&["--lang", "es-PE", "currency", "S/ 99.90", "--text"]),
        "noventa y nueve soles con noventa céntimos"
    );
    assert_eq!(
        line(&["--lang", "es-MX", "number", "21000", "--text"]),
        "veintiún mil"
    );
    assert_eq!(
        line(&["--lang", "es-MX", "time", "15:45", "--text"]),
        "las tres y cuarenta y cinco de la tarde"
    );
    assert_eq!(
        line(&["--lang", "es-MX", "digits", "0412", "--text"]),
        "cero cuatro uno dos"
    );
    assert_eq!(
        line(&["--lang", "es-MX", "ordinal", "23", "--text"]),
        "vigésimo tercero"
    );
    assert_eq!(
        line(&["--lang", "en-US", "currency", "1,234.50", "USD", "--text"]),
        "one thousand two hundred thirty-four dollars and fifty cents"
    );
}

#[test]
fn out_records_8khz_audio_with_tts_or_fragments() {
    let dir = tempfile::tempdir().unwrap();
    let tts = dir.path().join("tts.wav");
    let fragments = dir.path().join("fragments.wav");
    line(&[
        "--lang",
        "es-MX",
        "currency",
        "1234.50",
        "MXN",
        "--out",
        tts.to_str().unwrap(),
    ]);
    let prompts = repo_root().join("prompts/es-MX");
    line(&[
        "--fragments",
        prompts.to_str().unwrap(),
        "currency",
        "1234.50",
        "MXN",
        "--out",
        fragments.to_str().unwrap(),
    ]);
    for path in [&tts, &fragments] {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 7, "µ-law");
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
        let prompt = media::prompt::Prompt::load(path).unwrap();
        let seconds = prompt.duration().as_secs_f64();
        assert!(
            (2.5..8.0).contains(&seconds),
            "{}: {seconds} s",
            path.display()
        );
        let loud = prompt.samples().iter().filter(|s| s.abs() > 2000).count();
        assert!(loud > 4000, "{}: mostly silent", path.display());
    }
}

#[test]
fn unreadable_values_and_unknown_kinds_are_clear_errors() {
    let out = say(&["currency", "doce", "--text"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'doce' is not an amount"),
        "{}",
        text(&out)
    );
    let out = say(&["--lang", "pt-BR", "number", "1", "--text"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--lang pt-BR"),
        "{}",
        text(&out)
    );
    let out = say(&[
        "--fragments",
        "/nonexistent",
        "number",
        "1",
        "--out",
        "/tmp/x.wav",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/manifest.toml"),
        "{}",
        text(&out)
    );
}
