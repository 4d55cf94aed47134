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
    // The English set with the default language (es-MX).
    let english = repo_root().join("prompts/en-US");
    let out = say(&[
        "--fragments",
        english.to_str().unwrap(),
        "number",
        "1",
        "--out",
        "/tmp/x.wav",
    ]);
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("the set is for en-US, not es-MX;"),
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

#[test]
fn en_us_fragments_say_money_and_dates_word_by_word() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = repo_root().join("prompts/en-US");
    let manifest = media::prompt::Manifest::load(&prompts).unwrap();
    assert_eq!(manifest.language.as_deref(), Some("en-US"));
    for (args, words) in [
        (
            ["currency", "1,234.50", "USD"],
            "one thousand two hundred thirty-four dollars and fifty cents",
        ),
        (
            ["date", "12/15/2026", "full"],
            "December fifteenth twenty twenty-six",
        ),
    ] {
        let out = dir.path().join(format!("{}.wav", args[0]));
        let mut all = vec!["--lang", "en-US", "--fragments", prompts.to_str().unwrap()];
        all.extend_from_slice(&args);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let printed = line(&all);
        assert!(printed.ends_with(words), "{printed}");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
        let heard = media::prompt::Prompt::load(&out).unwrap();
        let loud = heard.samples().iter().filter(|s| s.abs() > 2000).count();
        assert!(loud > 2000, "{printed}: mostly silent");

        // The recording is the shipped fragments, one per word, in order,
        // 30 ms apart: nothing else was spoken.
        let words: Vec<String> = words.split(' ').map(str::to_owned).collect();
        let mut expected: Vec<i16> = Vec::new();
        for (i, name) in media::say::fragments(&words).iter().enumerate() {
            let file = prompts.join(&manifest.fragments[name]);
            let clip = media::prompt::Prompt::load(&file).unwrap();
            if i > 0 {
                expected.extend(std::iter::repeat_n(0, 240));
            }
            expected.extend_from_slice(media::prompt::trim_silence(clip.samples(), 40));
        }
        assert_eq!(
            heard.samples().len(),
            expected.len(),
            "{printed}: not the fragments' length"
        );
        assert!(
            heard.samples() == &expected[..],
            "{printed}: not the fragments"
        );
    }
}
