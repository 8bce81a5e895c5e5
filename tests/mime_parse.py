#!/usr/bin/env python3
"""Parse a message built by lib/deliver/mime.c the way a mail reader would, with
Python's email package (policy=email.policy.default), and print it as JSON
for check_mime:

    mime_parse.py FILE

{"headers": {"subject", "from", "to", "cc", "message-id", "date",
"mime-version", "names": [every top-level field name, in order]},
"from": [{"name", "addr"}], "to": [...], "cc": [...],
"tree": {"type", "parts": [...]} (content types, nested as in the message),
"text", "html": the decoded bodies (None when absent),
"attachments": [{"filename", "name", "type", "sha256", "size"}],
"defects": [every defect the parser noted, in any part or header]}

Exit status: 0, 2 on bad usage.
"""
import email
import email.policy
import hashlib
import json
import sys


def tree(part):
    node = {"type": part.get_content_type()}
    if part.is_multipart():
        node["parts"] = [tree(p) for p in part.iter_parts()]
    return node


def mailboxes(msg, field):
    h = msg[field]
    if h is None:
        return []
    return [{"name": a.display_name, "addr": a.addr_spec} for a in h.addresses]


def main():
    if len(sys.argv) != 2:
        print("usage: mime_parse.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    out = {
        "headers": {k: (str(msg[k]) if msg[k] is not None else None)
                    for k in ("subject", "from", "to", "cc", "bcc", "message-id", "date", "mime-version")},
        "from": mailboxes(msg, "from"),
        "to": mailboxes(msg, "to"),
        "cc": mailboxes(msg, "cc"),
        "tree": tree(msg),
        "text": None,
        "html": None,
        "attachments": [],
        "defects": [],
    }
    out["headers"]["names"] = list(msg.keys())
    for part in msg.walk():
        out["defects"] += ["%s: %r" % (part.get_content_type(), d) for d in part.defects]
        for name, value in part.items():
            out["defects"] += ["%s: %r" % (name, d) for d in getattr(value, "defects", ())]
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            out["attachments"].append({
                "filename": part.get_filename(),
                "name": part.get_param("name"),
                "type": part.get_content_type(),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "size": len(payload),
            })
        elif part.get_content_type() in ("text/plain", "text/html"):
            key = "text" if part.get_content_type() == "text/plain" else "html"
            # The bytes as sent, so line ends can be compared exactly.
            out[key] = part.get_payload(decode=True).decode(part.get_content_charset())
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
