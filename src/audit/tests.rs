//! The signed-note format against the reference implementation's own
//! vector (golang.org/x/mod/sumdb/note, note_test.go): Ed25519 signatures
//! are deterministic, so ours must match byte for byte.

use super::*;

const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn keys_and_signatures_match_the_go_reference_vector() {
    let signer = Signer::parse(SKEY).unwrap();
    assert_eq!(signer.verifier().to_string(), VKEY);
    assert_eq!(signer.sign_text(TEXT), format!("{TEXT}\n{SIG}"));
    let verifier = Verifier::parse(VKEY).unwrap();
    assert_eq!(verifier.open_text(&format!("{TEXT}\n{SIG}")).unwrap(), TEXT);
    let forged = format!("{TEXT}\n{SIG}").replace("cryptography", "cryptographY");
    assert!(matches!(
        verifier.open_text(&forged),
        Err(NoteError::Unsigned(_))
    ));
}

#[test]
fn mangled_keys_are_refused() {
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ApRc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ] {
        assert!(Verifier::parse(bad).is_err(), "{bad}");
    }
    assert!(Signer::parse(VKEY).is_err());
    assert!(Signer::parse(&SKEY.replace("c74f20a3", "c74f20a4")).is_err());
}

#[test]
fn a_checkpoint_signs_opens_and_refuses_another_key_or_an_edit() {
    let (private, public) = generate_key("audit.example").unwrap();
    let signer = Signer::parse(&private).unwrap();
    assert!(!format!("{signer:?}").contains(private.rsplit('+').next().unwrap()));
    let checkpoint = Checkpoint {
        origin: "audit.example/guest-reset".into(),
        size: 42,
        hash: "ab".repeat(32),
        time: "2026-12-03T10:00:00.000000Z".into(),
    };
    let note = signer.sign(&checkpoint).unwrap();
    assert!(
        note.starts_with("audit.example/guest-reset\n42\nq6ur"),
        "{note}"
    );
    let verifier = Verifier::parse(&public).unwrap();
    assert_eq!(verifier.open(&note).unwrap(), checkpoint);
    let other = Verifier::parse(&generate_key("audit.example").unwrap().1).unwrap();
    assert!(other.open(&note).is_err());
    assert!(verifier.open(&note.replace("\n42\n", "\n43\n")).is_err());
}

#[test]
fn a_note_names_the_key_that_signed_it_and_no_other() {
    let signer = Signer::parse(SKEY).unwrap();
    let note = signer.sign_text(TEXT);
    assert!(Verifier::parse(VKEY).unwrap().is_named_in(&note));
    let other = Verifier::parse(&generate_key("PeterNeumann").unwrap().1).unwrap();
    assert!(!other.is_named_in(&note), "same name, another key id");
    let forged = note.replace("x08go", "y08go");
    assert!(
        Verifier::parse(VKEY)
            .unwrap()
            .is_named_in(&format!("{TEXT}\n{SIG}"))
    );
    assert!(Verifier::parse(VKEY).unwrap().open_text(&forged).is_err());
}
