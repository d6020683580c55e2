"""Bounce reports as the common mail servers write them, for the bounce tests (written here, not
fetched): Postfix's and Exchange Online's RFC 3464 reports, Gmail's, a Postfix delay warning, and
mail that is not a bounce at all. Each is addressed to `to` (the return path of the email it
returns) and names `failed` (the student's address); `original_id` is the returned email's
Message-ID. The texts follow what each server sends (hosts and ids made up)."""
import uuid


def _id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


USER_UNKNOWN = ("5.1.1", "550 5.1.1 <{failed}>: Recipient address rejected: User unknown in local recipient table")
# The student's mail server refuses the portal's mail, not the address: Gmail's DMARC refusal.
DMARC_REFUSED = ("5.7.26", "550-5.7.26 Unauthenticated email from attendance.example.edu is not accepted due to\n"
                           "    550-5.7.26 domain's DMARC policy. Please contact the administrator of\n"
                           "    550 5.7.26 attendance.example.edu domain.")


def postfix(to: str, failed: str, original_id: str, report_id: str | None = None,
            refusal: tuple[str, str] = USER_UNKNOWN) -> bytes:
    """`refusal`: (the enhanced status, what the student's mail server said)."""
    report_id = report_id or _id("mx1.example.org")
    status, said = refusal[0], refusal[1].format(failed=failed)
    return f"""Return-Path: <>
Delivered-To: {to}
Received: by mx1.example.org (Postfix) id 4QxYz1Mz2nz9vB; Sat,  5 Dec 2026 09:14:03 +0300 (EAT)
Date: Sat,  5 Dec 2026 09:14:03 +0300 (EAT)
From: MAILER-DAEMON@mx1.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4QxYz1Mz2nz9vB.1733379243/mx1.example.org"
Content-Transfer-Encoding: 8bit
Message-Id: {report_id}

This is a MIME-encapsulated message.

--4QxYz1Mz2nz9vB.1733379243/mx1.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{failed}>: host mail.example.org[203.0.113.25] said: {said} (in reply to
    end of DATA command)

--4QxYz1Mz2nz9vB.1733379243/mx1.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.example.org
X-Postfix-Queue-ID: 4QxYz1Mz2nz9vB
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Sat,  5 Dec 2026 09:14:02 +0300 (EAT)

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: {status}
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; {said}

--4QxYz1Mz2nz9vB.1733379243/mx1.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{to}>
From: Attendance Portal <attendance@attendance.example.edu>
To: <{failed}>
Subject: Attendance Session Created: Data Structures
Message-ID: {original_id}

--4QxYz1Mz2nz9vB.1733379243/mx1.example.org--
""".encode()


def exchange(to: str, failed: str, original_id: str) -> bytes:
    """Exchange Online's non-delivery report (NDR): a readable part, then the RFC 3464 one."""
    return f"""Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:1::1) by
 AM0PR01MB1234.eurprd01.prod.exchangelabs.com; Sat, 5 Dec 2026 06:20:11 +0000
From: <postmaster@university.onmicrosoft.com>
To: <{to}>
Date: Sat, 5 Dec 2026 06:20:11 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="a8b0c2f4-6d1e-4f3a-9b7c-1e2d3c4b5a69"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <a5d3e1f2-0b9c-4d8e-8f7a-6b5c4d3e2f10@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
In-Reply-To: {original_id}
Subject: Undeliverable: Attendance Session Created: Data Structures
Auto-Submitted: auto-replied
MIME-Version: 1.0

--a8b0c2f4-6d1e-4f3a-9b7c-1e2d3c4b5a69
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to {failed} couldn't be delivered.
{failed.partition("@")[0]} wasn't found at {failed.partition("@")[2]}.

Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient n=
ot found by SMTP address lookup'

--a8b0c2f4-6d1e-4f3a-9b7c-1e2d3c4b5a69
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mail.attendance.example.edu
Arrival-Date: Sat, 5 Dec 2026 06:20:10 +0000

Final-Recipient: rfc822;{failed}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup

--a8b0c2f4-6d1e-4f3a-9b7c-1e2d3c4b5a69
Content-Type: message/rfc822

From: Attendance Portal <attendance@attendance.example.edu>
To: <{failed}>
Subject: Attendance Session Created: Data Structures
Message-ID: {original_id}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Hello, ...

--a8b0c2f4-6d1e-4f3a-9b7c-1e2d3c4b5a69--
""".encode()


def gmail(to: str, failed: str, original_id: str) -> bytes:
    return f"""Delivered-To: {to}
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {to}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: {original_id}
In-Reply-To: {original_id}
X-Failed-Recipients: {failed}
Message-ID: <6751a2b3.170a0220.2c3d4e.0001.GMR@mx.google.com>
Date: Fri, 04 Dec 2026 22:31:15 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000b1c2d3e4f5a6b7c8"; report-type=delivery-status

--000000000000b1c2d3e4f5a6b7c8
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to {failed} because the address couldn't be found, or is unable to receive mail.

Learn more here: https://support.google.com/mail/?p=NoSuchUser

The response was:

The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser

--000000000000b1c2d3e4f5a6b7c8
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mail.attendance.example.edu
Arrival-Date: Fri, 04 Dec 2026 22:31:14 -0800 (PST)
X-Original-Message-ID: {original_id}

Final-Recipient: rfc822; {failed}
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.1.26, the server for the domain gmail.com.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try
 550-5.1.1 double-checking the recipient's email address for typos or
 550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-7f0c1a2b3c4sor1234567a12.42 - gsmtp
Last-Attempt-Date: Fri, 04 Dec 2026 22:31:15 -0800 (PST)

--000000000000b1c2d3e4f5a6b7c8
Content-Type: message/rfc822

From: Attendance Portal <attendance@attendance.example.edu>
To: {failed}
Subject: Attendance Session Created: Data Structures
Message-ID: {original_id}

Hello, ...

--000000000000b1c2d3e4f5a6b7c8--
""".encode()


def postfix_delayed(to: str, failed: str, original_id: str) -> bytes:
    """Postfix's warning that a message is still waiting (a full mailbox, a server down): temporary."""
    return f"""Delivered-To: {to}
Date: Sat,  5 Dec 2026 13:14:03 +0300 (EAT)
From: MAILER-DAEMON@mx1.example.org (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="5RzAb2Na3oz8wC.1733393643/mx1.example.org"
Message-Id: {_id("mx1.example.org")}

--5RzAb2Na3oz8wC.1733393643/mx1.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.example.org.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

--5RzAb2Na3oz8wC.1733393643/mx1.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.example.org
X-Postfix-Queue-ID: 5RzAb2Na3oz8wC
Arrival-Date: Sat,  5 Dec 2026 09:14:02 +0300 (EAT)

Final-Recipient: rfc822; {failed}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 <{failed}>: Mailbox full
Will-Retry-Until: Thu, 10 Dec 2026 09:14:02 +0300 (EAT)

--5RzAb2Na3oz8wC.1733393643/mx1.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{to}>
Message-ID: {original_id}

--5RzAb2Na3oz8wC.1733393643/mx1.example.org--
""".encode()


def reply(to: str, student: str) -> bytes:
    """A student answering the email: not a bounce (an out-of-office is written much the same)."""
    return f"""From: Student <{student}>
To: {to}
Subject: Re: Attendance Session Created: Data Structures
Date: Sat, 5 Dec 2026 07:02:44 +0300
Message-ID: {_id("example.edu")}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Thank you, I will be there. Can I bring a friend?
""".encode()
