# Hostile input reaches every stdlib call here; each falls back instead of failing the message.
# ruff: noqa: BLE001, S110, S112
"""Turn one raw RFC 5322 message into what the email adapter stores: ``email_parse(raw) -> ParsedEmail``.

Standard library ``email`` with ``policy.default``. Never raises anything but ``EmailRejected`` (with a
reason an operator can read): malformed headers, unknown charsets and broken MIME degrade to the best
text that can be recovered, and bad attachments are dropped with a note while the message is kept.
Pure: no database, no storage; the caller decides what to do with the result.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage

from django.utils import timezone
from django.utils.translation import gettext as _

from channels.services.interactions import html_sanitise, text_summary

MAX_ATTACHMENTS = 25
MAX_REFERENCES = 30

# Dropped whatever they claim to be: they run code when opened on Windows, macOS or Linux desktops.
BLOCKED_EXTENSIONS = {
    "ade", "adp", "app", "appx", "bat", "cab", "chm", "cmd", "com", "cpl", "dll", "dmg", "exe", "hta", "inf", "ins",
    "isp", "jar", "js", "jse", "lib", "lnk", "mde", "msc", "msi", "msix", "msp", "mst", "nsh", "pif", "ps1", "psm1",
    "reg", "scr", "sct", "shb", "sh", "sys", "vb", "vbe", "vbs", "vxd", "wsc", "wsf", "wsh", "xll",
}  # fmt: skip
BLOCKED_TYPES = {
    "application/x-msdownload", "application/x-dosexec", "application/x-executable", "application/x-msdos-program",
    "application/x-sh", "application/x-bat", "application/java-archive", "application/x-ms-installer",
    "application/x-msi", "application/hta", "application/javascript", "text/javascript", "application/x-javascript",
    "application/vnd.microsoft.portable-executable",
}  # fmt: skip
# Magic numbers of executables: a renamed program is still a program.
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")

AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|autoreply|auto:|out of (the )?office|r[ée]ponse automatique"
    r"|absence|abwesenheit|automatische antwort|fuera de la oficina|respuesta autom[aá]tica)",
    re.IGNORECASE,
)
BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery (status notification|failure|has failed)|returned mail|mail delivery failed"
    r"|non remis|non distribu|failure notice|delivery problem)",
    re.IGNORECASE,
)
ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")

# Where a reply's quoted history starts, in the HTML of the common mail clients (cut before sanitising:
# nh3 drops the class and id attributes that mark them).
HTML_QUOTE_MARKERS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"<div[^>]*class=\"?[^\">]*gmail_quote",
        r"<blockquote[^>]*type=\"?cite",
        r"<div[^>]*id=\"?divRplyFwdMsg",
        r"<div[^>]*id=\"?appendonsend",
        r"<div[^>]*class=\"?[^\">]*moz-cite-prefix",
        r"<div[^>]*class=\"?[^\">]*yahoo_quoted",
        r"-----\s*Original Message\s*-----",
        r"-----\s*Message d'origine\s*-----",
    )
]
# The same in plain text: "On Mon, ... wrote:", "Le lun. ... a écrit :", Outlook's header block.
TEXT_QUOTE_START = re.compile(
    r"^(On .{0,200}wrote:\s*$|Le .{0,200}a [ée]crit\s*:\s*$|-{2,}\s*(Original Message|Message d'origine)\s*-{2,}"
    r"|_{10,}\s*$|(From|De)\s*:\s.+$)",
    re.IGNORECASE | re.MULTILINE,
)


class _PlainHeaderPolicy(policy.EmailPolicy):
    """``policy.default`` whose headers read back as plain strings, as ``compat32`` gives them.

    The header registry re-parses a header (into a structured object) on every ``get``; the parser
    itself, ``get_content_type``, ``get_param`` and ``get_filename`` read Content-Type and
    Content-Disposition many times per part, which was most of the parsing time. Their plain values
    are all those methods need; encoded words in a filename are decoded in ``_filename``.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or "=?" in value or _has_surrogates(value):
            # Encoded words or raw 8-bit bytes (rare): the registry decodes them as before.
            return super().header_fetch_parse(name, value)
        return UNFOLD.sub("", value) if "\n" in value else value


UNFOLD = re.compile(r"\r?\n")


def _has_surrogates(value: str) -> bool:
    """Whether the parser kept raw 8-bit bytes of this header as surrogate escapes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


PARSE_POLICY = _PlainHeaderPolicy()


class EmailRejected(Exception):
    """The input cannot be stored as an email; ``reason`` says why (shown to the poster, logged)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass
class ForwardedEmail:
    """A message attached to this one (``message/rfc822``): what the thread shows of it, as text."""

    from_: str
    subject: str
    date: str
    text: str

    def as_dict(self) -> dict:
        return {"from": self.from_, "subject": self.subject, "date": self.date, "text": self.text}


@dataclass
class BounceRecipient:
    address: str
    status: str = ""
    diagnostic: str = ""


@dataclass
class ParsedEmail:
    message_id: str
    message_id_synthesised: bool
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: str
    date: datetime.datetime | None
    date_header: str
    in_reply_to: list[str]
    references: list[str]
    body_html: str  # sanitised, the whole message
    display_html: str  # sanitised, quoted history trimmed
    text: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    forwarded: list[ForwardedEmail] = field(default_factory=list)
    is_auto_reply: bool = False
    is_bounce: bool = False
    bounced: list[BounceRecipient] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, the direct parent first."""
        seen, ordered = set(), []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen and mid != self.message_id:
                seen.add(mid)
                ordered.append(mid)
        return ordered

    @property
    def summary(self) -> str:
        return text_summary(self.display_html or html.escape(self.text))


def email_parse(raw: bytes, *, max_bytes: int, max_attachment_bytes: int) -> ParsedEmail:
    """Parse ``raw``; return a ``ParsedEmail`` or raise ``EmailRejected`` with the reason."""
    if not raw or not raw.strip():
        raise EmailRejected("empty", _("The message is empty."))
    if len(raw) > max_bytes:
        raise EmailRejected(
            "too_large",
            _("The message is %(size)d bytes; at most %(max)d are accepted.") % {"size": len(raw), "max": max_bytes},
        )
    try:
        message = email.message_from_bytes(raw, policy=PARSE_POLICY)
    except Exception as exc:  # the parser is lenient; this is the last line of defence
        raise EmailRejected("unparseable", _("The message could not be parsed: %(error)s") % {"error": exc}) from exc
    if not any(True for _ in message.raw_items()):
        raise EmailRejected("no_headers", _("This is not an email: it has no header lines."))

    from_name, from_address = _first_address(_header(message, "From"))
    sender = _first_address(_header(message, "Sender"))[1] or _first_address(_header(message, "Return-Path"))[1]
    from_address = from_address or sender
    if not from_address:
        raise EmailRejected("no_sender", _("The message has no sender address (From header)."))

    subject = " ".join(_header(message, "Subject").split())[:255]
    date_header = _header(message, "Date")
    walked = _walk(message, max_attachment_bytes=max_attachment_bytes)
    text, html_body, attachments, dropped, reports, forwarded = walked
    if not html_body and text:
        html_body = _text_to_html(text)
    display_raw = _trim_html_quote(html_body) if html_body else ""
    body_html = html_sanitise(html_body)
    display_html = html_sanitise(display_raw) if display_raw and display_raw != html_body else body_html
    if not text and html_body:
        text = text_summary(body_html, length=100_000)

    message_id = _message_ids(_header(message, "Message-ID"))
    synthesised = not message_id
    mid = message_id[0] if message_id else _synthesised_id(from_address, date_header, subject, text, raw)
    parsed = ParsedEmail(
        message_id=mid[:255],
        message_id_synthesised=synthesised,
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=_addresses(_header(message, "To")),
        cc=_addresses(_header(message, "Cc")),
        reply_to=_first_address(_header(message, "Reply-To"))[1],
        date=_date(date_header),
        date_header=date_header[:100],
        in_reply_to=_message_ids(_header(message, "In-Reply-To"))[:1],
        references=_message_ids(_header(message, "References"))[-MAX_REFERENCES:],
        body_html=body_html,
        display_html=display_html,
        text=text,
        attachments=attachments,
        dropped=dropped,
        forwarded=forwarded,
        defects=sorted({type(defect).__name__ for defect in getattr(message, "defects", [])}),
    )
    parsed.is_bounce, parsed.bounced = _bounce(message, parsed, reports)
    parsed.is_auto_reply = not parsed.is_bounce and _is_auto_reply(message, subject)
    return parsed


# -- headers -----------------------------------------------------------------------------------------


def _header(message: EmailMessage, name: str) -> str:
    """The decoded value of the first header ``name`` ("" when absent), whatever state it is in.

    Decoded from the raw value (RFC 2047 encoded words, 8-bit UTF-8 or windows-1252 bytes) rather
    than through ``policy.default``'s header registry, which re-parses the header on every access and
    was most of the parsing time; the registry's structure is not needed for these plain values.
    """
    wanted = name.lower()
    for key, raw in message.raw_items():
        if key.lower() == wanted:
            return _clean(_decode_raw(raw if isinstance(raw, str) else str(raw)))
    return ""


def _decode_raw(raw: str) -> str:
    text = FOLDING.sub(" ", raw).strip()
    if any("\udc80" <= char <= "\udcff" for char in text):  # 8-bit bytes kept as surrogates by the parser
        data = text.encode("ascii", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("windows-1252", "replace")
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


FOLDING = re.compile(r"\r?\n[ \t]*")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _clean(text: str) -> str:
    """Without the characters PostgreSQL refuses (NUL, lone surrogates) and other control characters."""
    return CONTROL.sub("", text)


def _addresses(value: str) -> list[str]:
    if not value:
        return []
    found = []
    for _name, address in email.utils.getaddresses([value]):
        address = address.strip().lower()
        if "@" in address and address not in found:
            found.append(address[:254])
    return found[:50]


def _first_address(value: str) -> tuple[str, str]:
    if not value:
        return "", ""
    for name, address in email.utils.getaddresses([value]):
        if "@" in address:
            return " ".join(name.split())[:120], address.strip().lower()[:254]
    match = ADDRESS.search(value)
    return ("", match.group(0).lower()) if match else ("", "")


def _message_ids(value: str) -> list[str]:
    """Message-IDs without angle brackets; a bare id without brackets is accepted as well."""
    if not value:
        return []
    ids = MESSAGE_ID.findall(value)
    if not ids and value.strip() and " " not in value.strip():
        ids = [value.strip()]
    return [mid[:255] for mid in ids]


def _synthesised_id(from_address: str, date_header: str, subject: str, text: str, raw: bytes) -> str:
    """A stable id for a message without Message-ID: the same message posted twice gets the same one.

    Built from what a relay does not change (sender, date, subject, body), not from the raw bytes,
    which gain Received headers on the way.
    """
    basis = "\x00".join([from_address, date_header, subject, text or raw[-4096:].decode("latin-1")])
    return f"{hashlib.sha256(basis.encode('utf-8', 'replace')).hexdigest()[:40]}@synthesised.relais.invalid"


def _date(value: str) -> datetime.datetime | None:
    """The Date header as an aware datetime, or None when absent, unreadable or absurd."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=datetime.UTC)
    now = timezone.now()
    if parsed.year < 1990 or parsed > now + datetime.timedelta(days=1):
        return None
    return parsed


# -- bodies and attachments ------------------------------------------------------------------------


MAX_FORWARDED = 5
MAX_FORWARDED_TEXT = 20_000


def _walk(message: EmailMessage, *, max_attachment_bytes: int, depth: int = 0):
    """(text, raw html, attachments, dropped, delivery-status blocks, forwarded messages) of the message's
    MIME tree. An attached message (``message/rfc822``, a forward "as attachment") is kept whole as an
    ``.eml`` attachment and its text read for the thread (nested forwards two levels deep at most)."""
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[ParsedAttachment] = []
    dropped: list[dict] = []
    reports: list = []
    forwarded: list[ForwardedEmail] = []
    for part in _parts(message):
        try:
            content_type = part.get_content_type()
        except Exception:
            content_type = "application/octet-stream"
        if content_type == "message/delivery-status":
            reports.extend(_status_blocks(part))
            continue
        if content_type == "message/rfc822" and part is not message:
            # The parser makes it a "multipart" holding the inner message: it used to be skipped below.
            inner = _forwarded(part, depth=depth)
            if inner is not None and len(forwarded) < MAX_FORWARDED:
                forwarded.append(inner)
            name = _filename(part) or _eml_name(inner)
            _collect_attachment(part, content_type, name, attachments, dropped, max_bytes=max_attachment_bytes)
            continue
        if part.is_multipart():
            continue
        disposition = _disposition(part)
        filename = _filename(part)
        is_body_text = content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename
        if is_body_text:
            text = _part_text(part)
            (htmls if content_type == "text/html" else texts).append(text)
            continue
        if content_type == "text/rfc822-headers":
            filename = filename or "forwarded-message.eml"
        if content_type.startswith("text/") and not filename:
            filename = "attachment.txt"
        _collect_attachment(part, content_type, filename or "attachment", attachments, dropped,
                            max_bytes=max_attachment_bytes)  # fmt: skip
    text = "\n\n".join(t for t in texts if t.strip())
    html_body = "\n".join(h for h in htmls if h.strip())
    return text, html_body, attachments, dropped, reports, forwarded


def _forwarded(part, *, depth: int) -> ForwardedEmail | None:
    """The sender, subject, date and text of the message inside a ``message/rfc822`` part."""
    try:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
    except Exception:
        return None
    if not isinstance(inner, email.message.Message) or depth >= 2:
        return None
    try:
        text, html_body = _walk(inner, max_attachment_bytes=0, depth=depth + 1)[:2]
    except Exception:
        text, html_body = "", ""
    if not text.strip() and html_body:
        text = text_summary(html_sanitise(html_body), length=MAX_FORWARDED_TEXT)
    name, address = _first_address(_header(inner, "From"))
    return ForwardedEmail(
        from_=f"{name} <{address}>" if name and address else address or _header(inner, "From")[:200],
        subject=" ".join(_header(inner, "Subject").split())[:255],
        date=_header(inner, "Date")[:100],
        text=text.strip()[:MAX_FORWARDED_TEXT],
    )


def _eml_name(inner: ForwardedEmail | None) -> str:
    """``<subject>.eml`` for an attached message without a file name (``forwarded-message.eml`` without subject)."""
    subject = re.sub(r"[^\w .,()'-]+", "", inner.subject if inner is not None else "").strip()[:80]
    return f"{subject}.eml" if subject else "forwarded-message.eml"


def _parts(message: EmailMessage):
    """Every part, depth first, without descending into attached messages (they stay one .eml file)."""
    stack = [message]
    depth = 0
    while stack and depth < 2000:  # a hostile message cannot make us loop for ever
        depth += 1
        part = stack.pop(0)
        yield part
        try:
            if part.is_multipart() and part.get_content_type() != "message/rfc822":
                payload = part.get_payload()
                if isinstance(payload, list):
                    stack[0:0] = [p for p in payload if isinstance(p, email.message.Message)]
        except Exception:
            continue


def _disposition(part) -> str:
    try:
        return part.get_content_disposition() or ""
    except Exception:
        return ""


def _filename(part) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = str(name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return " ".join(_clean(name).split())[:200]


def _part_bytes(part) -> bytes:
    try:
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            return inner.as_bytes(policy=policy.default.clone(linesep="\r\n")) if inner is not None else b""
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        try:
            payload = part.get_payload()
            data = payload.encode("utf-8", "replace") if isinstance(payload, str) else b""
        except Exception:
            data = b""
    return data


# Labels that mean windows-1252 in practice (the WHATWG Encoding Standard maps them so, as browsers do):
# mail clients write 0x80-0x9f (€, “ ”, —) into parts they label latin-1 or ASCII.
WINDOWS_1252_LABELS = {"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso-ir-100"}


def _part_text(part) -> str:
    """A text part's content, decoded strictly with its declared charset, then UTF-8, then windows-1252,
    and only then with replacement characters: a body declared UTF-8 but written in windows-1252 reads
    "45 €", not "45 �". (``get_content()`` decodes with ``errors="replace"``, so it is not used.)"""
    data = _part_bytes(part)
    charset = "utf-8"
    with contextlib.suppress(Exception):
        charset = (part.get_content_charset() or "utf-8").strip().lower()
    if charset in WINDOWS_1252_LABELS:
        charset = "windows-1252"
    for encoding in (charset, "utf-8", "windows-1252"):
        try:
            return _clean(data.decode(encoding))
        except (LookupError, UnicodeDecodeError):
            continue
    return _clean(data.decode("windows-1252", "replace"))


def _collect_attachment(part, content_type, filename, attachments, dropped, *, max_bytes: int) -> None:
    data = _part_bytes(part)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    reason = ""
    if len(attachments) >= MAX_ATTACHMENTS:
        reason = _("too many attachments (at most %(max)d are kept)") % {"max": MAX_ATTACHMENTS}
    elif len(data) > max_bytes:
        reason = _("larger than %(max)d bytes") % {"max": max_bytes}
    elif extension in BLOCKED_EXTENSIONS or content_type in BLOCKED_TYPES or data.startswith(EXECUTABLE_MAGIC):
        reason = _("executable or script files are not accepted")
    elif not data:
        reason = _("empty file")
    if reason:
        dropped.append({"filename": filename, "content_type": content_type, "size": len(data), "reason": reason})
        return
    try:
        content_id = str(part.get("Content-ID", "") or "").strip().strip("<>")[:200]
    except Exception:
        content_id = ""
    attachments.append(ParsedAttachment(filename=filename, content_type=content_type[:100], content=data,
                                        content_id=content_id))  # fmt: skip


def _text_to_html(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p.strip())


def _trim_html_quote(raw_html: str) -> str:
    """The reply without the quoted history (the full body is kept elsewhere)."""
    cut = len(raw_html)
    for marker in HTML_QUOTE_MARKERS:
        match = marker.search(raw_html)
        if match and match.start() < cut:
            cut = match.start()
    if cut == len(raw_html):
        # Plain text turned into HTML (or HTML without markers): look for the text conventions.
        plain = re.sub(r"<br\s*/?>", "\n", raw_html)
        match = TEXT_QUOTE_START.search(html.unescape(re.sub(r"<[^>]+>", "\n", plain)))
        if match:
            needle = html.escape(match.group(0).strip()[:40], quote=False)
            position = raw_html.find(needle)
            if position > 0:
                cut = position
        quoted = re.search(r"(<br>|<p>)\s*&gt;", raw_html)
        if quoted and quoted.start() < cut:
            cut = quoted.start()
    trimmed = raw_html[:cut]
    # Keep the whole body when trimming would leave nothing to read.
    return trimmed if re.sub(r"<[^>]+>|\s", "", trimmed) else raw_html


# -- auto-replies and bounces -------------------------------------------------------------------------


def _is_auto_reply(message: EmailMessage, subject: str) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    # X-Auto-Response-Suppress is not a sign: Outlook sets it on ordinary mail too.
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").strip().lower() in ("bulk", "auto_reply", "junk"):
        return True
    return bool(AUTO_SUBJECT.search(subject))


def _status_blocks(part) -> list:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        return payload
    if isinstance(payload, str):  # some MTAs send it unparsed: parse the header blocks ourselves
        return [email.message_from_string(block, policy=policy.default) for block in re.split(r"\r?\n\r?\n", payload)]
    return []


def _bounce(message: EmailMessage, parsed: ParsedEmail, reports: list) -> tuple[bool, list[BounceRecipient]]:
    """Whether the message is a delivery failure report, and the recipients that failed."""
    recipients: list[BounceRecipient] = []
    for block in reports:
        action = _header(block, "Action").strip().lower()
        final = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        if not final:
            continue
        address = final.split(";", 1)[-1].strip().strip("<>").lower()
        if action and action != "failed":
            continue  # "delayed", "delivered", "relayed": not a failure
        if "@" in address and all(r.address != address for r in recipients):
            diagnostic = " ".join(_header(block, "Diagnostic-Code").split())[:150]
            status = _header(block, "Status").strip()[:20]
            recipients.append(BounceRecipient(address=address[:254], status=status, diagnostic=diagnostic))
    try:
        is_report = (
            message.get_content_type() == "multipart/report"
            and (message.get_param("report-type", "") or "").lower() == "delivery-status"
        )
    except Exception:
        is_report = False
    from_daemon = bool(BOUNCE_SENDER.match(parsed.from_address))
    if not (is_report or recipients or (from_daemon and BOUNCE_SUBJECT.search(parsed.subject))):
        return False, []
    if is_report and not recipients and reports:
        return False, []  # a report of delays or successful deliveries, not a bounce
    if not recipients:
        failed = _header(message, "X-Failed-Recipients")
        candidates = _addresses(failed) if failed else ADDRESS.findall(parsed.text[:4000])
        own = {parsed.from_address, *parsed.to}
        for address in candidates:
            address = address.lower()
            is_new = all(r.address != address for r in recipients)
            if is_new and address not in own and not BOUNCE_SENDER.match(address) and len(recipients) < 5:
                recipients.append(BounceRecipient(address=address, diagnostic=parsed.subject[:150]))
    return True, recipients
