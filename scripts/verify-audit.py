#!/usr/bin/env python3
"""Verify a guest-reset audit export without the service (docs/audit.md).

    python3 scripts/verify-audit.py EVENTS.ndjson [--checkpoint FILE --key VERIFIER_KEY]
    python3 scripts/verify-audit.py --self-test

Standard library plus the `openssl` command (for Ed25519) only, so an auditor can read all
that runs and trust none of the service's code.
"""
import argparse, base64, hashlib, json, os, subprocess, sys, tempfile

DOMAIN = b"guest-reset audit event v1\n"  # sets our hashes apart from any other SHA-256 of JSON
GENESIS = "0" * 64
FIELDS = ("actor", "at", "data", "kind", "prev", "seq", "subject")  # all but `hash`
SPKI = bytes.fromhex("302a300506032b6570032100")  # DER header of an Ed25519 public key
DASH = "\u2014 "  # a signature line starts with an em dash and a space

def fail(where, reason):
    print(f"FAIL at {where}: {reason}")
    sys.exit(1)

def canonical(value):
    # Sorted keys, no whitespace, UTF-8 unescaped: byte for byte what the service hashes.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

def event_hash(event):
    return hashlib.sha256(DOMAIN + canonical({k: event[k] for k in FIELDS})).hexdigest()

def no_floats(text):
    # None occur, and two JSON libraries may print one differently: refuse rather than guess.
    raise ValueError(f"a non-integer number {text}")

def ed25519_ok(public, message, signature):
    pem = b"-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(SPKI + public)
    with tempfile.TemporaryDirectory() as tmp:
        key, msg, sig = (os.path.join(tmp, n) for n in ("key.pem", "msg", "sig"))
        for path, data in ((key, pem), (msg, message), (sig, signature)):
            with open(path, "wb") as f:
                f.write(data)
        # -rawin: Ed25519 signs the message itself, not a digest of it.
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-in", msg, "-sigfile", sig]
        return subprocess.run(command, capture_output=True).returncode == 0

def open_note(note, key):
    """The text of a C2SP signed note if `key` (<name>+<hex id>+<base64 key>) signed it, else None."""
    if key.startswith("PRIVATE+KEY+"):
        raise ValueError("that is the signing key: give the verifier key (and keep the other secret)")
    name, key_id, encoded = (key.strip().split("+", 2) + ["", ""])[:3]
    raw, key_id = base64.b64decode(encoded, validate=True), bytes.fromhex(key_id)
    if len(raw) != 33 or raw[0] != 1 or len(key_id) != 4:
        raise ValueError("the key is not <name>+<8 hex id>+base64(0x01 || 32-byte Ed25519 key)")
    # The id commits to the name and the key: a mismatch means the key text was altered.
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] != key_id:
        raise ValueError("the key id does not match the key's name and bytes")
    split = note.rfind("\n\n")  # the text ends at the last blank line: signatures hold none
    body, signatures = note[:split + 1], note[split + 2:]
    for line in signatures.splitlines() if split >= 0 else []:
        signer, _, sig = line.removeprefix(DASH).partition(" ")
        if line.startswith(DASH) and signer == name:
            sig = base64.b64decode(sig)
            if len(sig) == 68 and sig[:4] == key_id and ed25519_ok(raw[1:], body.encode(), sig[4:]):
                return body
    return None

def read_checkpoint(path, key):
    """(size, hex hash): the head the checkpoint at `path` signs."""
    with open(path, encoding="utf-8", newline="") as f:  # newline="": the signed bytes, as they are
        body = open_note(f.read(), key)
    if body is None:
        fail("checkpoint", f"no signature by {key.split('+')[0]} verifies over {path}")
    origin, size, encoded, time = (body.split("\n") + [""] * 4)[:4]
    raw = base64.b64decode(encoded, validate=True)
    # Only the canonical form counts, so one head has exactly one signed text.
    if body != f"{origin}\n{int(size)}\n{base64.b64encode(raw).decode()}\n{time}\n" or len(raw) != 32 \
            or not origin or not time.startswith("time "):
        fail("checkpoint", "its text is not origin, size, base64 hash, time")
    return int(size), raw.hex()

def verify(path, checkpoint):
    size, signed = checkpoint or (None, None)
    first = last = head = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line, parse_float=no_floats, parse_constant=no_floats)
                seq, computed = event["seq"], event_hash(event)
                if type(seq) is not int:
                    raise TypeError("seq is not an integer")
            except (ValueError, KeyError, TypeError) as e:
                fail(f"line {number}", f"not an event: {e}")
            if last is None:
                first = seq  # an export from a later event (or a pruned log) trusts its first prev
                if seq == 1 and event["prev"] != GENESIS:
                    fail("event 1", "its prev is not the genesis hash (64 zeros)")
            elif seq != last + 1:
                fail(f"event {seq}", f"it comes after event {last}: events are missing or out of order")
            elif event["prev"] != head:
                fail(f"event {seq}", f"its prev is not event {last}'s hash: an event was changed, removed or reordered")
            if computed != event["hash"]:
                fail(f"event {seq}", "its hash does not match its contents: it was changed")
            if seq == size and event["hash"] != signed:
                fail(f"event {seq}", "its hash is not the one the checkpoint signed: the history was rewritten")
            last, head = seq, event["hash"]
    if last is None:
        fail("event 1", f"{path} holds no events")
    if size is not None and not first <= size <= last:
        gone = ": events were removed" if size > last else ""
        fail("checkpoint", f"it signs event {size}, the export holds {first}..{last}{gone}")
    anchor = "" if first == 1 else f" (event {first} trusted as the anchor)"
    note = "" if size is None else f", checkpoint {size} verified"
    print(f"ok: events {first}..{last} chained{anchor}, head {head}{note}")

def self_test():
    # Go's golang.org/x/mod/sumdb/note vector: this openssl verifies notes as the service signs them.
    key = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    note = f"{text}\n{DASH}PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    if open_note(note, key) != text or open_note(note.replace("you think", "you thinK"), key) is not None:
        fail("self-test", "openssl does not verify the Go note vector (or verifies a forgery)")
    # The encoding vector docs/audit.md shows; src/audit/event.rs hashes the same event.
    event = {"seq": 1, "at": "2026-12-03T00:00:00.000000Z", "kind": "reset.received", "subject": "r1",
             "actor": {"type": "caller", "subject": "agent"},
             "data": {"b": 1, "a": ["x", {"d": None, "c": "é\n\"q\""}]}, "prev": GENESIS}
    if canonical(event["data"]) != '{"a":["x",{"c":"é\\n\\"q\\"","d":null}],"b":1}'.encode():
        fail("self-test", "canonical JSON differs from the service's")
    print(f"ok: self-test passed, vector hash {event_hash(event)}")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Verify a guest-reset audit export (docs/audit.md).")
    parser.add_argument("events", nargs="?", help="NDJSON from GET /v1/audit/events, pages concatenated")
    parser.add_argument("--checkpoint", help="a signed checkpoint, best an off-box copy")
    parser.add_argument("--key", help="the verifier key, <name>+<id>+<base64 key>")
    parser.add_argument("--self-test", action="store_true", help="check the documented vectors and openssl")
    args = parser.parse_args()
    if not args.self_test and (not args.events or bool(args.checkpoint) != bool(args.key)):
        parser.error("give EVENTS, and --checkpoint together with --key")
    try:
        if args.self_test:
            self_test()
        else:
            verify(args.events, read_checkpoint(args.checkpoint, args.key) if args.checkpoint else None)
    except OSError as e:  # a file, or the openssl command, is missing
        fail("input", e)
    except ValueError as e:  # the events' errors are caught where they occur: this is the key or the note
        fail("checkpoint", e)
