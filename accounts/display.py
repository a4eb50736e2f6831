"""How allauth names a person on its pages and in its messages (ACCOUNT_USER_DISPLAY).

allauth's default is the e-mail address, so the confirmation page read "هو عنوان بريد إلكتروني للمستخدم
noura@…" and the log-in message "تم تسجيل دخولك باسم noura@…" (issue 12). A person is named by their name.
"""


def display_name(user):
    """The full name, or the e-mail address of an account that has none (a superuser made on the command line)."""
    return user.get_full_name() or user.email
