"""An admin in a real Chromium: home → accounts → create → edit → link → sign out everywhere →
disable, with real CSRF tokens, axe on every page and no sideways scrolling on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from imh_course.extensions import db
from imh_course.models.audit_chain import Actor
from imh_course.operations.accounts import create_user
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

ADMIN = "admin@example.org"


def fits_the_screen(page) -> bool:  # noqa: ANN001
    # after a click the next page may still be loading its stylesheet: measure the laid-out page
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_an_admin_manages_an_account_from_the_browser(page, live_server, demo):  # noqa: ARG001
    create_user(
        Actor.system(), email=ADMIN, full_name="Ada Admin", roles=[Role.ADMIN], password=TEST_PASSWORD
    )
    db.session.commit()
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, base, ADMIN, TEST_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin")
    assert_accessible(page)
    assert fits_the_screen(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_label("Name or email contains").fill("LCSW@")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row", name=re.compile("Lena Social-Worker"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Create an account").click()
    assert_accessible(page)
    page.get_by_label("Full name").fill("Ivy Instructor")
    page.get_by_label("Email (the sign-in name)").fill("ivy@example.org")
    page.get_by_label("Instructor").check()
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Account created for Ivy Instructor")
    expect(page.locator(".invite-link")).to_contain_text("/account/set-password/")
    assert_accessible(page)
    assert fits_the_screen(page)

    page.get_by_role("link", name="← Ivy Instructor").click()
    assert_accessible(page)
    assert fits_the_screen(page)
    page.get_by_label("Full name").fill("Ivy I. Instructor")
    page.get_by_label("Coordinator").check()
    page.get_by_role("button", name="Save the account").click()
    expect(page.get_by_text("The account is saved.")).to_be_visible()
    page.get_by_role("button", name="Send a new invitation link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New invitation link for Ivy I. Instructor")
    page.get_by_role("link", name="← Ivy I. Instructor").click()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("is signed out on every device")).to_be_visible()

    page.get_by_role("link", name="Disable the account").click()
    assert_accessible(page)
    page.get_by_role("button", name="Disable the account").click()
    expect(page.get_by_text("Enter a reason.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Reason").fill("Left the agency")
    page.get_by_role("button", name="Disable the account").click()
    expect(page.get_by_text("account is disabled")).to_be_visible()
    expect(page.get_by_text("disabled", exact=True)).to_be_visible()

    page.get_by_role("link", name="← Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    page.set_viewport_size({"width": 375, "height": 740})
    assert fits_the_screen(page)
