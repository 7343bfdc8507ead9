"""Console email for the embedded default (`make run`): each email as its reader would see it.

Django's console backend prints the raw MIME message, where a Korean, Vietnamese or Indonesian
subject or name is a MIME encoded word (`=?utf-8?b?...?=`) and a long body may be quoted-printable.
This one prints the headers and the plain-text body as text, and names the HTML alternative and
the attachments, so a newcomer can read the mail and follow its links.
"""

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.core.mail.message import EmailMessage

RULE = "-" * 79


def _attachment_name(attachment) -> str:
    if isinstance(attachment, tuple):  # (filename, content, mimetype)
        return f"{attachment[0] or '(unnamed)'} ({attachment[2] or 'application/octet-stream'})"
    return f"{attachment.get_filename() or '(unnamed)'} ({attachment.get_content_type()})"


def readable(message: EmailMessage) -> str:
    """The email as text: headers, body, then what else it carries."""
    lines = [f"From: {message.from_email}"]
    for name, addresses in (("To", message.to), ("Cc", message.cc),
                            ("Reply-To", message.reply_to)):
        if addresses:
            lines.append(f"{name}: {', '.join(addresses)}")
    lines += [f"{name}: {value}" for name, value in message.extra_headers.items()]
    lines += [f"Subject: {message.subject}", "", message.body.rstrip("\n")]
    for content, mimetype in getattr(message, "alternatives", []):
        lines.append(f"[{mimetype} alternative, {len(content)} characters]")
    lines += [f"[attachment: {_attachment_name(a)}]" for a in message.attachments]
    return "\n".join(lines)


class EmailBackend(ConsoleEmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        # Built as a real send would build it, so that what a mail server refuses (a header
        # with a newline, say) fails here too.
        message.message()
        self.stream.write(f"{readable(message)}\n{RULE}\n")
