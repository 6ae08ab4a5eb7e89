#!/usr/bin/env python3
"""Drive Zoho's official Python SDK for CRM v8 (zohocrmsdk8-0) against a running zcrm emulator.

Every check goes through the SDK's own operations classes and compares what the SDK hands back
(typed values, per-record outcomes, status codes) with what the v8 contract expects. One line per
check: PASS, FAIL, or DIFF (a known, deliberate difference between the SDK's expectation and the
emulator's documented behaviour; it does not fail the run). Exit 0 only when nothing FAILs.

Usage: check.py --url http://127.0.0.1:PORT --client ID:SECRET:REFRESH [--work DIR]
The SDK is imported from ZCRM_SDK_PATH (a checkout of zohocrm-python-sdk-8.0) when set, else
from the installed package; exit 2 when it cannot be imported.
"""

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import traceback
import urllib.request

EXIT_NO_SDK = 2


def import_sdk():
    """Put ZCRM_SDK_PATH on sys.path and import the SDK's modules, or exit 2."""
    path = os.environ.get("ZCRM_SDK_PATH")
    if path:
        sys.path.insert(0, path)
    try:
        from zohocrmsdk.src.com.zoho.api.authenticator import OAuthToken  # noqa: F401
    except ImportError as err:
        where = f"ZCRM_SDK_PATH={path}" if path else "the installed packages (ZCRM_SDK_PATH unset)"
        print(
            f"the Zoho CRM Python SDK for v8 (package zohocrmsdk8-0) is not importable from {where}: {err}\n"
            "install it with `pip install zohocrmsdk8-0`, or point ZCRM_SDK_PATH at a checkout of "
            "https://github.com/zoho/zohocrm-python-sdk-8.0 (see scripts/sdk-check/README.md)",
            file=sys.stderr,
        )
        sys.exit(EXIT_NO_SDK)


import_sdk()

# The SDK's own classes (imported after sys.path is set).
from zohocrmsdk.src.com.zoho.api.authenticator import OAuthToken  # noqa: E402
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore  # noqa: E402
from zohocrmsdk.src.com.zoho.api.logger import Logger  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, Initializer, ParameterMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper as CoqlBody  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.coql import CoqlOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.coql import ResponseWrapper as CoqlResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.fields import ResponseWrapper as FieldsResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.modules import GetModulesHeader, ModulesOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.modules import ResponseWrapper as ModulesResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.org import OrgOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.org import ResponseWrapper as OrgResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    ActionWrapper,
    APIException,
    BodyWrapper,
    DeletedRecordsWrapper,
    DeleteRecordsParam,
    CountWrapper,
    GetDeletedRecordsHeader,
    GetDeletedRecordsParam,
    GetRecordsHeader,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.users import GetUsersParam, MinifiedUser, UsersOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.users import ResponseWrapper as UsersResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.util import Choice  # noqa: E402

# Known differences: check name -> why the emulator deliberately answers otherwise than the SDK
# expects (the v8 contract decides, or the feature is outside the emulator's documented subset).
# A check listed here that fails prints DIFF and does not fail the run; one that passes prints PASS.
EXPECTED_DIFFERENCES = {
    "metadata.modules.if_modified_since": (
        "the emulator's settings/modules ignores If-Modified-Since and always answers the full list "
        "(the contract and the README name If-Modified-Since for record lists and the deleted list, "
        "not modules); the SDK sends it only with auto_refresh_fields after an hour, and on a 200 it "
        "re-reads every module's fields, so nothing breaks"
    ),
    "records.count": (
        "GET /{module}/actions/count is outside the emulator's documented v8 subset (README: the REST "
        "face); it answers 404 INVALID_URL_PATTERN as for any unknown path (CD-23)"
    ),
    "metadata.users.by_id": (
        "GET /users/{id} is outside the emulator's documented v8 subset (only GET /users?type=...); "
        "the path reads as a module named 'users', so it answers 400 INVALID_MODULE (CD-23)"
    ),
}


class CheckFailed(Exception):
    """A comparison did not hold."""


def expect(cond, detail):
    """Raise CheckFailed with the detail unless cond holds."""
    if not cond:
        raise CheckFailed(detail)


def val(x):
    """The plain value of an SDK Choice (or the value itself)."""
    return x.get_value() if isinstance(x, Choice) else x


class Runner:
    """Runs checks, prints one line each, remembers failures."""

    def __init__(self):
        self.failed = 0
        self.passed = 0
        self.diffs = 0

    def run(self, name, fn):
        try:
            detail = fn()
        except (CheckFailed, SDKException, AssertionError, KeyError, TypeError, AttributeError,
                ValueError, IndexError) as err:
            msg = describe(err)
            if name in EXPECTED_DIFFERENCES:
                self.diffs += 1
                print(f"DIFF  {name}: {msg} -- expected difference: {EXPECTED_DIFFERENCES[name]}")
            else:
                self.failed += 1
                print(f"FAIL  {name}: {msg}")
                if os.environ.get("ZCRM_SDK_CHECK_TRACE"):
                    traceback.print_exc()
            return None
        self.passed += 1
        print(f"PASS  {name}: {detail}")
        return detail


def describe(err):
    """One line for an exception (an SDKException's code, message and details)."""
    if isinstance(err, SDKException):
        parts = [str(err.code) if err.code else "", str(err.error_message) if err.error_message else ""]
        if err.details:
            parts.append(json.dumps(err.details, default=str))
        if err.cause is not None:
            parts.append(f"cause: {err.cause!r}")
        return "SDKException " + " ".join(p for p in parts if p)
    return f"{type(err).__name__}: {err}"


def api_error(obj):
    """A readable form of an SDK APIException object (a whole-call error)."""
    return f"{val(obj.get_code())} {val(obj.get_message())} {obj.get_details()}"


def records_of(response, what):
    """The records of a read response, or CheckFailed with what came back."""
    expect(response is not None, f"{what}: no response")
    obj = response.get_object()
    if isinstance(obj, APIException):
        raise CheckFailed(f"{what}: HTTP {response.get_status_code()} {api_error(obj)}")
    expect(response.get_status_code() == 200, f"{what}: HTTP {response.get_status_code()}")
    expect(isinstance(obj, ResponseWrapper), f"{what}: {type(obj).__name__}")
    return obj


def action_results(response, what, status):
    """The per-record results of a write (each SuccessResponse or APIException), status checked."""
    expect(response is not None, f"{what}: no response")
    obj = response.get_object()
    if isinstance(obj, APIException):
        raise CheckFailed(f"{what}: HTTP {response.get_status_code()} {api_error(obj)}")
    expect(isinstance(obj, ActionWrapper), f"{what}: {type(obj).__name__}")
    expect(response.get_status_code() == status,
           f"{what}: HTTP {response.get_status_code()}, expected {status}")
    return obj.get_data()


def same_instant(a, b):
    """Two aware datetimes denote the same instant."""
    return isinstance(a, dt.datetime) and a.tzinfo is not None and a == b


class Emulator:
    """The emulator's admin surface (plain HTTP, no SDK involved)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def post(self, path):
        req = urllib.request.Request(self.url + path, data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status


class Check:
    """The checks, in an order where later ones use what earlier ones created."""

    def __init__(self, args, runner):
        self.args = args
        self.r = runner
        self.emu = Emulator(args.url)
        self.tag = "Sdk" + str(int(time.time() * 1000))[-8:]
        self.account_ids = []
        self.contact_ids = []
        self.contacts = {}
        self.token = None
        self.event_start = dt.datetime(2024, 3, 10, 9, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

    # ---- OAuth -------------------------------------------------------------------------------
    def initialize(self):
        client_id, secret, refresh = self.args.client.split(":", 2)
        env = DataCenter.Environment(self.args.url, self.args.url + "/oauth/v2/token", self.args.url)
        self.token = OAuthToken(client_id=client_id, client_secret=secret, refresh_token=refresh)
        work = self.args.work
        log = Logger.get_instance(Logger.Levels.INFO, os.path.join(work, "sdk.log"))
        Initializer.initialize(
            env,
            self.token,
            store=FileStore(os.path.join(work, "sdk_tokens.csv")),
            # Picklist validation on: the emulator's picklists carry display values the SDK checks.
            sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=True),
            resource_path=work,
            logger=log,
        )
        access = self.token.get_access_token()
        expect(access, "no access token after Initialize")
        expires = int(self.token.get_expires_in()) - int(time.time() * 1000)
        expect(3_500_000 < expires <= 3_600_000, f"expires in {expires} ms, expected about 3600 s")
        expect(self.token.get_api_domain() == self.args.url,
               f"api_domain {self.token.get_api_domain()!r}, expected {self.args.url!r}")
        return f"refresh token exchanged, access token for {expires // 1000} s, api_domain {self.token.get_api_domain()}"

    def expired_token(self):
        """An access token the server expired surfaces as INVALID_TOKEN (the SDK never retries on 401)."""
        self.emu.post("/__emulator/expire-tokens")
        resp = OrgOperations().get_organization()
        obj = resp.get_object()
        expect(resp.get_status_code() == 401, f"HTTP {resp.get_status_code()}, expected 401")
        expect(val(obj.get_code()) == "INVALID_TOKEN", f"code {val(obj.get_code())}")
        expect(val(obj.get_message()) == "invalid oauth token", f"message {val(obj.get_message())!r}")
        return "401 INVALID_TOKEN 'invalid oauth token' as an APIException"

    def refresh_by_clock(self):
        """The SDK refreshes by its own clock: its stored token is made to look spent, then a call."""
        store = Initializer.get_initializer().store
        stored = store.find_token_by_id(self.token.get_id()) if self.token.get_id() else store.find_token(self.token)
        expect(stored is not None, "the SDK's token store holds no token")
        before = stored.get_access_token()
        stored.set_expires_in(str(int(time.time() * 1000)))
        store.save_token(stored)
        resp = OrgOperations().get_organization()
        obj = resp.get_object()
        if not isinstance(obj, OrgResponse):
            raise CheckFailed(f"org after refresh: HTTP {resp.get_status_code()} {api_error(obj)}")
        after = store.find_token_by_id(stored.get_id()).get_access_token()
        expect(after and after != before, "the SDK did not get a new access token")
        return "a spent access token is refreshed by the SDK (refresh_token grant) and the call succeeds"

    def token_errors(self):
        """The token endpoint's errors through the SDK's own refresh: invalid_client, invalid_code."""
        client_id, secret, refresh = self.args.client.split(":", 2)
        url = self.args.url + "/oauth/v2/token"
        seen = []
        for tok, want in ((OAuthToken(client_id=client_id, client_secret=secret + "x", refresh_token=refresh), "invalid_client"),
                          (OAuthToken(client_id=client_id, client_secret=secret, refresh_token=refresh + "x"), "invalid_code")):
            try:
                tok.refresh_access_token(tok, url)
            except SDKException as err:
                expect(err.error_message == want, f"{err.error_message!r}, expected {want!r}")
                seen.append(want)
                continue
            raise CheckFailed(f"a refresh that should give {want} returned a token")
        return f"wrong secret: {seen[0]}; unknown refresh token: {seen[1]} (as SDKException messages)"

    # ---- writes ------------------------------------------------------------------------------
    def insert_accounts(self):
        body = BodyWrapper()
        recs = []
        for i, (employees, revenue, number) in enumerate(
            [(250, 1234567.5, self.number(0)), (12, 99.99, self.number(1))]
        ):
            rec = Record()
            rec.add_key_value("Account_Name", f"{self.tag} Account {i}")
            rec.add_key_value("Employees", employees)
            rec.add_key_value("Annual_Revenue", revenue)
            rec.add_key_value("Account_Number", number)
            rec.add_key_value("Industry", Choice("Data/Telecom OEM"))
            recs.append(rec)
        body.set_data(recs)
        body.set_trigger([])
        results = action_results(RecordOperations("Accounts").create_records(body), "insert Accounts", 201)
        expect(len(results) == 2, f"{len(results)} results")
        for res in results:
            expect(isinstance(res, SuccessResponse), f"{type(res).__name__} {api_error(res)}")
            expect(val(res.get_code()) == "SUCCESS" and val(res.get_status()) == "success", "not SUCCESS")
            expect(val(res.get_message()) == "record added", f"message {val(res.get_message())!r}")
            details = res.get_details()
            self.account_ids.append(int(details["id"]))
            expect(isinstance(details["Created_Time"], dt.datetime), "Created_Time not a datetime")
        return f"201, 2 × SUCCESS 'record added', ids {self.account_ids}"

    def number(self, i):
        """A unique Account_Number of this run past 2^53 (a float would lose it), 18 digits."""
        return 900719925474099300 + int(self.tag[3:]) * 10 + i

    def contact(self, i, **extra):
        rec = Record()
        rec.add_key_value("First_Name", f"First{i}")
        rec.add_key_value("Last_Name", f"{self.tag}Last{i}")
        rec.add_key_value("Email", f"{self.tag.lower()}.{i}@example.com")
        rec.add_key_value("Date_of_Birth", dt.date(1980 + i, 1 + i, 10 + i))
        rec.add_key_value("Email_Opt_Out", i % 2 == 0)
        acct = Record()
        acct.set_id(self.account_ids[0])
        rec.add_key_value("Account_Name", acct)
        for k, v in extra.items():
            rec.add_key_value(k, v)
        return rec

    def insert_contacts(self):
        recs = [self.contact(i) for i in range(5)]
        bad = Record()
        bad.set_id(999999999999999999)
        recs[3].add_key_value("Account_Name", bad)  # a lookup to a record that does not exist
        body = BodyWrapper()
        body.set_data(recs)
        body.set_trigger([])
        results = action_results(RecordOperations("Contacts").create_records(body), "insert Contacts", 207)
        expect(len(results) == 5, f"{len(results)} results")
        for i, res in enumerate(results):
            if i == 3:
                expect(isinstance(res, APIException), f"row 3: {type(res).__name__}, expected an error")
                expect(val(res.get_code()) == "INVALID_DATA", f"row 3 code {val(res.get_code())}")
                details = res.get_details()
                expect(details.get("api_name") == "Account_Name", f"row 3 details {details}")
                continue
            expect(isinstance(res, SuccessResponse), f"row {i}: {type(res).__name__} {api_error(res)}")
            cid = int(res.get_details()["id"])
            self.contact_ids.append(cid)
            self.contacts[cid] = i
        return f"207 multi-status: 4 × SUCCESS, row 3 INVALID_DATA on Account_Name ({results[3].get_details()})"

    def insert_mandatory_missing(self):
        rec = Record()
        rec.add_key_value("First_Name", "NoLastName")
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        resp = RecordOperations("Contacts").create_records(body)
        results = action_results(resp, "insert without Last_Name", 400)
        res = results[0]
        expect(isinstance(res, APIException), f"{type(res).__name__}")
        expect(val(res.get_code()) == "MANDATORY_NOT_FOUND", f"code {val(res.get_code())}")
        expect(res.get_details().get("api_name") == "Last_Name", f"details {res.get_details()}")
        return "400 with one MANDATORY_NOT_FOUND {api_name: Last_Name}"

    def insert_event(self):
        rec = Record()
        rec.add_key_value("Event_Title", f"{self.tag} meeting")
        rec.add_key_value("Start_DateTime", self.event_start)
        rec.add_key_value("End_DateTime", self.event_start + dt.timedelta(hours=1, minutes=15))
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Events").create_records(body), "insert Events", 201)
        expect(isinstance(results[0], SuccessResponse), api_error(results[0]))
        eid = int(results[0].get_details()["id"])
        got = records_of(RecordOperations("Events").get_record(eid), "get Event").get_data()[0]
        start = got.get_key_value("Start_DateTime")
        end = got.get_key_value("End_DateTime")
        expect(same_instant(start, self.event_start), f"Start_DateTime {start!r}")
        expect(same_instant(end, self.event_start + dt.timedelta(hours=1, minutes=15)), f"End_DateTime {end!r}")
        return f"datetimes round-trip as the same instants ({start.isoformat()})"

    def insert_deals(self):
        rec = Record()
        rec.add_key_value("Deal_Name", f"{self.tag} Deal")
        rec.add_key_value("Amount", 1234.565)  # currency, precision 2: stored rounded half-up
        rec.add_key_value("Probability", 12.5)
        rec.add_key_value("Closing_Date", dt.date(2025, 12, 31))
        rec.add_key_value("Stage", Choice("Qualification"))
        acct = Record()
        acct.set_id(self.account_ids[1])
        rec.add_key_value("Account_Name", acct)
        owner = MinifiedUser()
        owner.set_id(self.user_ids[1])
        rec.add_key_value("Owner", owner)
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Deals").create_records(body), "insert Deals", 201)
        expect(isinstance(results[0], SuccessResponse), api_error(results[0]))
        did = int(results[0].get_details()["id"])
        got = records_of(RecordOperations("Deals").get_record(did), "get Deal").get_data()[0]
        amount = got.get_key_value("Amount")
        expect(amount == 1234.57 and type(amount) is float, f"Amount {amount!r}")
        prob = got.get_key_value("Probability")
        expect(prob == 12.5 and type(prob) is float, f"Probability {prob!r}")
        closing = got.get_key_value("Closing_Date")
        expect(closing == dt.date(2025, 12, 31), f"Closing_Date {closing!r}")
        expect(val(got.get_key_value("Stage")) == "Qualification", f"Stage {got.get_key_value('Stage')!r}")
        acct = got.get_key_value("Account_Name")
        expect(isinstance(acct, Record) and acct.get_id() == self.account_ids[1]
               and acct.get_key_value("name") == f"{self.tag} Account 1", f"Account_Name {acct!r}")
        owner = got.get_key_value("Owner")
        expect(isinstance(owner, MinifiedUser) and owner.get_id() == self.user_ids[1] and owner.get_email(),
               f"Owner {owner!r}")
        return "currency rounded half-up to 2 places, percent, date, picklist, lookup and owner (by id) typed"

    def insert_duplicate(self):
        rec = Record()
        rec.add_key_value("Account_Name", f"{self.tag} Account dup")
        rec.add_key_value("Account_Number", self.number(0))
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Accounts").create_records(body), "duplicate", 400)
        res = results[0]
        expect(isinstance(res, APIException), type(res).__name__)
        expect(val(res.get_code()) == "DUPLICATE_DATA", f"code {val(res.get_code())}")
        details = res.get_details()
        expect(details.get("api_name") == "Account_Number", f"details {details}")
        dup = details.get("duplicate_record")  # the SDK parses it into a DuplicateRecord
        expect(dup is not None and int(dup.get_id()) == self.account_ids[0], f"duplicate_record {dup!r}")
        module = dup.get_module()
        expect(module is not None and module.get_api_name() == "Accounts", "duplicate_record.module")
        return f"400 DUPLICATE_DATA on the unique Account_Number, duplicate_record {dup.get_id()} in Accounts"

    def insert_too_long(self):
        rec = Record()
        rec.add_key_value("Last_Name", "L" * 81)
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Contacts").create_records(body), "too long", 400)
        res = results[0]
        expect(isinstance(res, APIException) and val(res.get_code()) == "INVALID_DATA", type(res).__name__)
        details = res.get_details()
        expect(details.get("api_name") == "Last_Name" and str(details.get("maximum_length")) == "80",
               f"details {details}")  # the SDK's details map holds the number as a string
        return f"81 characters in an 80-character field: INVALID_DATA {details}"

    def upsert_unique(self):
        rec = Record()
        rec.add_key_value("Account_Name", f"{self.tag} Account 1 renamed")
        rec.add_key_value("Account_Number", self.number(1))
        body = BodyWrapper()
        body.set_data([rec])
        body.set_duplicate_check_fields(["Account_Number"])
        body.set_trigger([])
        results = action_results(RecordOperations("Accounts").upsert_records(body), "upsert", 200)
        res = results[0]
        expect(isinstance(res, SuccessResponse), api_error(res))
        expect(val(res.get_action()) == "update" and val(res.get_duplicate_field()) == "Account_Number",
               f"action {val(res.get_action())} duplicate_field {val(res.get_duplicate_field())}")
        expect(int(res.get_details()["id"]) == self.account_ids[1], "another record updated")
        return "duplicate_check_fields [Account_Number] (a unique bigint): update of the matching account"

    def custom_module(self):
        """A custom module of the --schema file: multi-select, decimal, datetime, lookup, unique."""
        if not any(m.get_api_name() == "Registrations"
                   for m in ModulesOperations().get_modules().get_object().get_modules()):
            raise CheckFailed("no Registrations module: start the emulator with --schema scripts/sdk-check/schema.toml")
        rec = Record()
        rec.add_key_value("Registration_Name", f"{self.tag} registration")
        rec.add_key_value("Tracks", [Choice("Rust"), Choice("Data")])
        rec.add_key_value("Score", 7.125)  # decimal_place 2: half-up gives 7.13 (half-even 7.12)
        rec.add_key_value("Checked_In", self.event_start)
        contact = Record()
        contact.set_id(self.contact_ids[0])
        rec.add_key_value("Attendee", contact)
        rec.add_key_value("Badge", f"B{self.tag[3:]}")
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Registrations").create_records(body), "insert", 201)
        expect(isinstance(results[0], SuccessResponse), api_error(results[0]))
        rid = int(results[0].get_details()["id"])
        self.registration = rid
        got = records_of(RecordOperations("Registrations").get_record(rid), "get").get_data()[0]
        tracks = [val(t) for t in got.get_key_value("Tracks") or []]
        expect(tracks == ["Rust", "Data"], f"Tracks {tracks!r}")
        score = got.get_key_value("Score")
        expect(score == 7.13 and type(score) is float, f"Score {score!r}")
        expect(same_instant(got.get_key_value("Checked_In"), self.event_start), f"Checked_In {got.get_key_value('Checked_In')!r}")
        attendee = got.get_key_value("Attendee")
        expect(isinstance(attendee, Record) and attendee.get_id() == self.contact_ids[0], f"Attendee {attendee!r}")
        expect(got.get_key_value("Badge") == f"B{self.tag[3:]}", "Badge")
        return "multi-select list of choices, decimal rounded half-up, datetime, lookup round-trip"

    def custom_upsert(self):
        rec = Record()
        rec.add_key_value("Registration_Name", f"{self.tag} registration again")
        rec.add_key_value("Badge", f"b{self.tag[3:]}")  # the unique field, case differs
        rec.add_key_value("Tracks", [Choice("Python")])
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        results = action_results(RecordOperations("Registrations").upsert_records(body), "upsert", 200)
        res = results[0]
        expect(isinstance(res, SuccessResponse), api_error(res))
        expect(val(res.get_action()) == "update" and val(res.get_duplicate_field()) == "Badge",
               f"action {val(res.get_action())} duplicate_field {val(res.get_duplicate_field())}")
        expect(int(res.get_details()["id"]) == self.registration, "another record updated")
        got = records_of(RecordOperations("Registrations").get_record(self.registration), "get").get_data()[0]
        tracks = [val(t) for t in got.get_key_value("Tracks") or []]
        expect(tracks == ["Python"], f"Tracks {tracks!r} (an update replaces a multi-select)")
        return "no duplicate_check_fields: the unique Badge matched (case-insensitive), multi-select replaced"

    def insert_over_limit(self):
        body = BodyWrapper()
        recs = []
        for i in range(101):
            rec = Record()
            rec.add_key_value("Last_Name", f"{self.tag}Bulk{i}")
            recs.append(rec)
        body.set_data(recs)
        body.set_trigger([])
        resp = RecordOperations("Contacts").create_records(body)
        obj = resp.get_object()
        expect(resp.get_status_code() == 400 and isinstance(obj, APIException),
               f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        expect(val(obj.get_code()) == "LIMIT_EXCEEDED", f"code {val(obj.get_code())}")
        params = ParameterMap()
        params.add(SearchRecordsParam.word, f"{self.tag}Bulk")
        expect(RecordOperations("Contacts").search_records(params).get_status_code() == 204, "rows were written")
        return f"101 records: 400 {api_error(obj)}, nothing written"

    def upsert_bad_check_field(self):
        rec = Record()
        rec.add_key_value("Last_Name", f"{self.tag}Nope")
        body = BodyWrapper()
        body.set_data([rec])
        body.set_duplicate_check_fields(["Phone"])
        body.set_trigger([])
        resp = RecordOperations("Contacts").upsert_records(body)
        obj = resp.get_object()
        expect(resp.get_status_code() == 400, f"HTTP {resp.get_status_code()}")
        code = val(obj.get_code()) if isinstance(obj, APIException) else val(obj.get_data()[0].get_code())
        expect(code == "INVALID_DATA", f"code {code}")
        return "duplicate_check_fields [Phone] (neither system nor unique): 400 INVALID_DATA"

    # ---- reads -------------------------------------------------------------------------------
    def get_records_paged(self):
        ops = RecordOperations("Contacts")
        seen = []
        page = 1
        fields = ["Last_Name", "Email", "Date_of_Birth", "Email_Opt_Out", "Account_Name"]
        while True:
            params = ParameterMap()
            params.add(GetRecordsParam.fields, ",".join(fields))
            params.add(GetRecordsParam.per_page, 2)
            params.add(GetRecordsParam.page, page)
            params.add(GetRecordsParam.sort_by, "id")
            params.add(GetRecordsParam.sort_order, "asc")
            wrapper = records_of(ops.get_records(params), f"page {page}")
            info = wrapper.get_info()
            data = wrapper.get_data()
            expect(info.get_per_page() == 2 and info.get_page() == page, f"info page {info.get_page()}")
            expect(info.get_count() == len(data), f"info count {info.get_count()} vs {len(data)}")
            for rec in data:
                keys = set(rec.get_key_values().keys())
                extra = keys - set(fields) - {"id"}
                expect(not extra, f"fields not asked for: {sorted(extra)}")
                seen.append(rec)
            if not info.get_more_records():
                break
            expect(info.get_next_page_token(), "more_records without next_page_token")
            expect(isinstance(info.get_page_token_expiry(), dt.datetime), "page_token_expiry not a datetime")
            page += 1
        ids = [r.get_id() for r in seen]
        expect(ids == sorted(ids), "ids not ascending")
        mine = [r for r in seen if r.get_id() in self.contacts]
        expect(len(mine) == 4, f"{len(mine)} of the 4 inserted contacts listed")
        for rec in mine:
            i = self.contacts[rec.get_id()]
            self.compare_contact(rec, i)
        return f"{page} pages of 2, only the asked fields + id, values typed (date, bool, lookup)"

    def compare_contact(self, rec, i, dob=None, opt_out=None):
        dob = dob or dt.date(1980 + i, 1 + i, 10 + i)
        opt_out = (i % 2 == 0) if opt_out is None else opt_out
        got_dob = rec.get_key_value("Date_of_Birth")
        expect(type(got_dob) is dt.date and got_dob == dob, f"contact {i} Date_of_Birth {got_dob!r}")
        got_opt = rec.get_key_value("Email_Opt_Out")
        expect(got_opt is opt_out, f"contact {i} Email_Opt_Out {got_opt!r}")
        acct = rec.get_key_value("Account_Name")
        expect(isinstance(acct, Record), f"contact {i} Account_Name {acct!r}")
        expect(acct.get_id() == self.account_ids[0], f"contact {i} Account_Name.id {acct.get_id()!r}")
        expect(acct.get_key_value("name") == f"{self.tag} Account 0", f"Account_Name.name {acct.get_key_value('name')!r}")
        expect(rec.get_key_value("Email") == f"{self.tag.lower()}.{i}@example.com", f"Email {rec.get_key_value('Email')!r}")

    def get_records_ids(self):
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        for cid in self.contact_ids[:2]:
            params.add(GetRecordsParam.ids, str(cid))
        wrapper = records_of(RecordOperations("Contacts").get_records(params), "ids")
        ids = sorted(r.get_id() for r in wrapper.get_data())
        expect(ids == sorted(self.contact_ids[:2]), f"ids {ids}")
        return "ids=a,b lists exactly those records"

    def get_records_modified_since(self):
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        future = HeaderMap()
        future.add(GetRecordsHeader.if_modified_since, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
        resp = RecordOperations("Contacts").get_records(params, future)
        expect(resp.get_status_code() == 304, f"future If-Modified-Since: HTTP {resp.get_status_code()}")
        past = HeaderMap()
        past.add(GetRecordsHeader.if_modified_since, dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
        wrapper = records_of(RecordOperations("Contacts").get_records(params, past), "past If-Modified-Since")
        mine = [r for r in wrapper.get_data() if r.get_id() in self.contacts]
        expect(len(mine) == 4, f"{len(mine)} of 4 recent contacts")
        return "If-Modified-Since (sent by the SDK as ISO 8601): 304 when nothing changed, else the changed records"

    def get_records_per_page(self):
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        params.add(GetRecordsParam.per_page, 201)
        resp = RecordOperations("Contacts").get_records(params)
        obj = resp.get_object()
        expect(resp.get_status_code() == 400 and isinstance(obj, APIException), f"HTTP {resp.get_status_code()}")
        expect(val(obj.get_code()) == "INVALID_DATA", f"code {val(obj.get_code())}")
        return f"per_page 201: 400 {api_error(obj)}"

    def get_records_sorted(self):
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name,Modified_Time")
        params.add(GetRecordsParam.sort_by, "Modified_Time")
        params.add(GetRecordsParam.sort_order, "desc")
        params.add(GetRecordsParam.converted, "both")
        wrapper = records_of(RecordOperations("Contacts").get_records(params), "sorted")
        times = [r.get_modified_time() for r in wrapper.get_data()]
        expect(all(isinstance(t, dt.datetime) for t in times), "Modified_Time not datetimes")
        expect(times == sorted(times, reverse=True), "not newest first")
        info = wrapper.get_info()
        expect(info.get_sort_by() == "Modified_Time" and val(info.get_sort_order()) == "desc",
               f"info sort {info.get_sort_by()} {val(info.get_sort_order())}")
        return "sort_by Modified_Time desc (converted=both): newest first, info echoes the sort"

    def get_records_page_token(self):
        ops = RecordOperations("Contacts")
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        params.add(GetRecordsParam.per_page, 1)
        first = records_of(ops.get_records(params), "page 1")
        token = first.get_info().get_next_page_token()
        expect(token, "no next_page_token on a page with more_records")
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        params.add(GetRecordsParam.per_page, 1)
        params.add(GetRecordsParam.page_token, token)
        second = records_of(ops.get_records(params), "page_token page")
        a, b = first.get_data()[0].get_id(), second.get_data()[0].get_id()
        expect(a > b, f"page_token page gave id {b} after {a} (default order id desc)")
        return "next_page_token leads to the next record (id desc)"

    def get_records_fields_required(self):
        resp = RecordOperations("Contacts").get_records(ParameterMap())
        obj = resp.get_object()
        expect(resp.get_status_code() == 400, f"HTTP {resp.get_status_code()}")
        expect(isinstance(obj, APIException), type(obj).__name__)
        expect(val(obj.get_code()) == "REQUIRED_PARAM_MISSING", f"code {val(obj.get_code())}")
        return f"no fields: 400 {api_error(obj)}"

    def get_record(self):
        ops = RecordOperations("Accounts")
        rec = records_of(ops.get_record(self.account_ids[0]), "get Account").get_data()[0]
        expect(rec.get_id() == self.account_ids[0], f"id {rec.get_id()}")
        checks = {
            "Account_Name": f"{self.tag} Account 0",
            "Employees": 250,
            "Annual_Revenue": 1234567.5,
            "Account_Number": self.number(0),
        }
        for k, want in checks.items():
            got = rec.get_key_value(k)
            expect(got == want and type(got) is type(want), f"{k} {got!r}, expected {want!r}")
        industry = rec.get_key_value("Industry")
        expect(val(industry) == "Data/Telecom OEM", f"Industry {industry!r}")
        expect(rec.get_key_value("Phone") is None and "Phone" in rec.get_key_values(), "empty Phone not null")
        owner = rec.get_key_value("Owner")
        expect(owner is not None and owner.get_id() and owner.get_email(), f"Owner {owner!r}")
        expect(isinstance(rec.get_created_time(), dt.datetime), "Created_Time not a datetime")
        return "every field, empty ones null; integer, double, bigint (> 2^53), picklist, owner typed"

    def get_record_unknown(self):
        resp = RecordOperations("Accounts").get_record(999999999999999998)
        expect(resp.get_status_code() == 204, f"HTTP {resp.get_status_code()}")
        return "unknown id: 204, no body"

    # ---- update / upsert ---------------------------------------------------------------------
    def update_records(self):
        cid0, cid1 = self.contact_ids[0], self.contact_ids[1]
        r0 = Record()
        r0.set_id(cid0)
        r0.add_key_value("Date_of_Birth", dt.date(2000, 2, 29))
        r0.add_key_value("Email_Opt_Out", False)
        r1 = Record()
        r1.set_id(cid1)
        r1.add_key_value("Title", "Chief Tester")
        body = BodyWrapper()
        body.set_data([r0, r1])
        body.set_trigger([])
        results = action_results(RecordOperations("Contacts").update_records(body), "update", 200)
        for res in results:
            expect(isinstance(res, SuccessResponse), api_error(res))
            expect(val(res.get_message()) == "record updated", f"message {val(res.get_message())!r}")
        got = records_of(RecordOperations("Contacts").get_record(cid0), "re-read").get_data()[0]
        self.compare_contact(got, self.contacts[cid0], dob=dt.date(2000, 2, 29), opt_out=False)
        got1 = records_of(RecordOperations("Contacts").get_record(cid1), "re-read").get_data()[0]
        expect(got1.get_key_value("Title") == "Chief Tester", f"Title {got1.get_key_value('Title')!r}")
        return "200, 2 × 'record updated'; the re-read shows the new values"

    def update_one(self):
        cid = self.contact_ids[2]
        rec = Record()
        rec.add_key_value("Department", "QA")
        body = BodyWrapper()
        body.set_data([rec])
        results = action_results(RecordOperations("Contacts").update_record(cid, body), "update one", 200)
        expect(isinstance(results[0], SuccessResponse), api_error(results[0]))
        expect(int(results[0].get_details()["id"]) == cid, "id differs")
        got = records_of(RecordOperations("Contacts").get_record(cid), "re-read").get_data()[0]
        expect(got.get_key_value("Department") == "QA", f"Department {got.get_key_value('Department')!r}")
        return "PUT /Contacts/{id}: SUCCESS, value stored"

    def update_unknown(self):
        rec = Record()
        rec.set_id(999999999999999997)
        rec.add_key_value("Title", "x")
        body = BodyWrapper()
        body.set_data([rec])
        results = action_results(RecordOperations("Contacts").update_records(body), "update unknown", 400)
        expect(isinstance(results[0], APIException), type(results[0]).__name__)
        expect(val(results[0].get_code()) == "INVALID_DATA", f"code {val(results[0].get_code())}")
        return f"400, INVALID_DATA {val(results[0].get_message())!r}"

    def upsert(self):
        existing = self.contact_ids[1]
        i = self.contacts[existing]
        upd = Record()
        upd.add_key_value("Last_Name", f"{self.tag}Upserted")
        upd.add_key_value("Email", f"{self.tag.upper()}.{i}@EXAMPLE.COM")  # case differs: still a match
        new = self.contact(7)
        body = BodyWrapper()
        body.set_data([upd, new])
        body.set_duplicate_check_fields(["Email"])
        body.set_trigger([])
        results = action_results(RecordOperations("Contacts").upsert_records(body), "upsert", 200)
        expect(len(results) == 2, f"{len(results)} results")
        a, b = results
        expect(isinstance(a, SuccessResponse) and isinstance(b, SuccessResponse), "not both SUCCESS")
        expect(val(a.get_action()) == "update" and val(a.get_duplicate_field()) == "Email",
               f"row 0 action {val(a.get_action())} duplicate_field {val(a.get_duplicate_field())}")
        expect(int(a.get_details()["id"]) == existing, "row 0 updated another record")
        expect(val(b.get_action()) == "insert" and b.get_duplicate_field() is None,
               f"row 1 action {val(b.get_action())} duplicate_field {b.get_duplicate_field()!r}")
        nid = int(b.get_details()["id"])
        self.contact_ids.append(nid)
        self.contacts[nid] = 7
        got = records_of(RecordOperations("Contacts").get_record(existing), "re-read").get_data()[0]
        expect(got.get_key_value("Last_Name") == f"{self.tag}Upserted", "Last_Name not updated")
        return "200: row 0 update (duplicate_field Email, case-insensitive), row 1 insert"

    # ---- search / COQL -----------------------------------------------------------------------
    def search(self, key, param, value, want_ids):
        params = ParameterMap()
        params.add(param, value)
        resp = RecordOperations("Contacts").search_records(params)
        wrapper = records_of(resp, f"search {key}")
        ids = sorted(r.get_id() for r in wrapper.get_data())
        expect(ids == sorted(want_ids), f"ids {ids}, expected {sorted(want_ids)}")
        return f"{len(ids)} record(s)"

    def search_criteria(self):
        want = self.contact_ids[0]
        crit = f"((Last_Name:equals:{self.tag}Last0)and(Email_Opt_Out:equals:false))"
        return self.search("criteria", SearchRecordsParam.criteria, crit, [want]) + f" for {crit}"

    def search_email(self):
        cid = self.contact_ids[2]
        email = f"{self.tag.upper()}.{self.contacts[cid]}@example.com"
        return self.search("email", SearchRecordsParam.email, email, [cid]) + " (case-insensitive)"

    def search_word(self):
        want = [c for c in self.contact_ids if c != self.contact_ids[1]]
        return self.search("word", SearchRecordsParam.word, f"{self.tag}Last", want)

    def search_date_between(self):
        # Contacts 2 and 4 (born 1982 and 1984); contact 0 was moved to 2000 by the update.
        crit = f"((Date_of_Birth:between:1982-01-01,1984-12-31)and(Last_Name:starts_with:{self.tag}))"
        want = [c for c in self.contact_ids if self.contacts[c] in (2, 4)]
        return self.search("between", SearchRecordsParam.criteria, crit, want) + f" for {crit}"

    def search_in_or(self):
        c0, c2 = self.contact_ids[0], self.contact_ids[2]
        crit = (f"((Email:in:{self.tag.lower()}.0@example.com,{self.tag.lower()}.2@example.com)"
                f"or(Last_Name:starts_with:{self.tag}Upserted))")
        return self.search("in/or", SearchRecordsParam.criteria, crit, [c0, c2, self.contact_ids[1]])

    def search_phone(self):
        cid = self.contact_ids[0]
        rec = Record()
        rec.set_id(cid)
        digits = self.tag[3:]  # this run's own number: earlier runs on the same store do not match
        rec.add_key_value("Phone", f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}")
        body = BodyWrapper()
        body.set_data([rec])
        body.set_trigger([])
        action_results(RecordOperations("Contacts").update_records(body), "set phone", 200)
        return self.search("phone", SearchRecordsParam.phone, "1" + digits, [cid]) + " (digits compared)"

    def search_none(self):
        params = ParameterMap()
        params.add(SearchRecordsParam.word, f"{self.tag}Nobody")
        resp = RecordOperations("Contacts").search_records(params)
        expect(resp.get_status_code() == 204, f"HTTP {resp.get_status_code()}")
        return "no match: 204"

    def coql(self):
        body = CoqlBody()
        body.set_select_query(
            "select Last_Name, Date_of_Birth, Email_Opt_Out, Account_Name, Account_Name.Account_Name "
            f"from Contacts where Last_Name like '{self.tag}Last%' order by id limit 0, 10"
        )
        resp = CoqlOperations().get_records(body)
        obj = resp.get_object()
        if not isinstance(obj, CoqlResponse):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {api_error(obj)}")
        data = obj.get_data()
        ids = [r.get_id() for r in data]
        want = sorted(c for c in self.contact_ids if c != self.contact_ids[1])
        expect(ids == want, f"ids {ids}, expected {want}")
        info = obj.get_info()
        expect(info.get_count() == len(want) and info.get_more_records() is False,
               f"info count {info.get_count()} more {info.get_more_records()}")
        # COQL names no module in its path, so the SDK types only the record id; every other column
        # comes back as its JSON value: compare the wire forms (CD-6, CD-19).
        first = data[0]
        dob = first.get_key_value("Date_of_Birth")
        expect(dob == "2000-02-29", f"Date_of_Birth {dob!r}")
        expect(first.get_key_value("Email_Opt_Out") is False, f"Email_Opt_Out {first.get_key_value('Email_Opt_Out')!r}")
        acct = first.get_key_value("Account_Name")
        expect(acct == {"id": str(self.account_ids[0])}, f"Account_Name {acct!r}")
        joined = first.get_key_value("Account_Name.Account_Name")
        expect(joined == f"{self.tag} Account 0", f"Account_Name.Account_Name {joined!r}")
        return f"{len(ids)} rows by id asc; wire forms of date, boolean, lookup {{id}} and a dotted join"

    def coql_syntax_error(self):
        body = CoqlBody()
        body.set_select_query("select Last_Name form Contacts")
        resp = CoqlOperations().get_records(body)
        obj = resp.get_object()
        expect(resp.get_status_code() == 400, f"HTTP {resp.get_status_code()}")
        expect(val(obj.get_code()) == "SYNTAX_ERROR", f"code {val(obj.get_code())}")
        return f"400 {val(obj.get_code())} {val(obj.get_message())!r}"

    # ---- delete ------------------------------------------------------------------------------
    def delete(self):
        gone = self.contact_ids[3:5]
        params = ParameterMap()
        for cid in gone:
            params.add(DeleteRecordsParam.ids, str(cid))
        results = action_results(RecordOperations("Contacts").delete_records(params), "delete", 200)
        for res in results:
            expect(isinstance(res, SuccessResponse), api_error(res))
            expect(val(res.get_message()) == "record deleted", f"message {val(res.get_message())!r}")
        expect(sorted(int(r.get_details()["id"]) for r in results) == sorted(gone), "ids differ")
        again = action_results(RecordOperations("Contacts").delete_records(params), "delete again", 400)
        for res in again:
            expect(isinstance(res, APIException) and val(res.get_code()) == "INVALID_DATA",
                   f"second delete {type(res).__name__}")
        self.deleted = gone
        return "200, 2 × 'record deleted'; deleting them again: 400 INVALID_DATA each"

    def delete_one(self):
        cid = self.contact_ids[2]
        results = action_results(RecordOperations("Contacts").delete_record(cid), "delete one", 200)
        expect(isinstance(results[0], SuccessResponse), api_error(results[0]))
        self.deleted.append(cid)
        resp = RecordOperations("Contacts").get_record(cid)
        expect(resp.get_status_code() == 204, f"get after delete: HTTP {resp.get_status_code()}")
        return "DELETE /Contacts/{id}: SUCCESS; reading it afterwards: 204"

    def deleted_records(self):
        params = ParameterMap()
        params.add(GetDeletedRecordsParam.type, "all")
        resp = RecordOperations("Contacts").get_deleted_records(params)
        obj = resp.get_object()
        if not isinstance(obj, DeletedRecordsWrapper):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        rows = {d.get_id(): d for d in obj.get_data()}
        for cid in self.deleted:
            expect(cid in rows, f"{cid} not listed")
            row = rows[cid]
            expect(val(row.get_type()) == "recycle", f"type {val(row.get_type())}")
            expect(isinstance(row.get_deleted_time(), dt.datetime), f"deleted_time {row.get_deleted_time()!r}")
            expect(row.get_deleted_by() is not None and row.get_deleted_by().get_id(), "no deleted_by")
        times = [d.get_deleted_time() for d in obj.get_data()]
        expect(times == sorted(times, reverse=True), "not newest first")
        return f"{len(self.deleted)} deleted ids listed as recycle, deleted_time typed, newest first"

    def deleted_modified_since(self):
        headers = HeaderMap()
        headers.add(GetDeletedRecordsHeader.if_modified_since, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
        params = ParameterMap()
        params.add(GetDeletedRecordsParam.type, "recycle")
        resp = RecordOperations("Contacts").get_deleted_records(params, headers)
        expect(resp.get_status_code() == 204, f"HTTP {resp.get_status_code()}, expected 204 (never 304)")
        return "If-Modified-Since after every deletion: 204"

    # ---- metadata ----------------------------------------------------------------------------
    def fields(self):
        params = ParameterMap()
        params.add(GetFieldsParam.module, "Deals")
        resp = FieldsOperations().get_fields(params)
        obj = resp.get_object()
        if not isinstance(obj, FieldsResponse):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        by = {f.get_api_name(): f for f in obj.get_fields()}
        want = {
            "Deal_Name": ("text", "string"),
            "Amount": ("currency", "double"),
            "Closing_Date": ("date", "string"),
            "Stage": ("picklist", "string"),
            "Probability": ("percent", "double"),
            "Account_Name": ("lookup", "jsonobject"),
            "Created_Time": ("datetime", "string"),
        }
        for name, (dtype, jtype) in want.items():
            f = by.get(name)
            expect(f is not None, f"{name} missing")
            expect(f.get_data_type() == dtype and f.get_json_type() == jtype,
                   f"{name} {f.get_data_type()}/{f.get_json_type()}")
        expect(by["Deal_Name"].get_system_mandatory() is True, "Deal_Name not system_mandatory")
        expect(by["Created_Time"].get_read_only() is True, "Created_Time not read_only")
        expect(by["Amount"].get_decimal_place() == 2, f"Amount decimal_place {by['Amount'].get_decimal_place()}")
        expect(by["Deal_Name"].get_length() == 120, f"Deal_Name length {by['Deal_Name'].get_length()}")
        lookup = by["Account_Name"].get_lookup()
        expect(lookup is not None and lookup.get_module().get_api_name() == "Accounts", "lookup module")
        stages = [p.get_display_value() for p in by["Stage"].get_pick_list_values()]
        expect(len(stages) > 1, f"Stage values {stages}")
        return f"{len(by)} fields; types, mandatory, read-only, length, decimals, lookup, {len(stages)} stages"

    def modules(self):
        resp = ModulesOperations().get_modules()
        obj = resp.get_object()
        if not isinstance(obj, ModulesResponse):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        by = {m.get_api_name(): m for m in obj.get_modules()}
        for name in ("Leads", "Contacts", "Accounts", "Deals"):
            expect(name in by, f"{name} missing")
            expect(by[name].get_api_supported() is True, f"{name} not api_supported")
        expect(val(by["Leads"].get_generated_type()) == "default", "Leads generated_type")
        one = ModulesOperations().get_module_by_api_name("Contacts").get_object()
        expect(isinstance(one, ModulesResponse) and one.get_modules()[0].get_api_name() == "Contacts",
               "single module by api name")
        return f"{len(by)} modules; Contacts by api name"

    def users(self):
        params = ParameterMap()
        params.add(GetUsersParam.type, "AllUsers")
        resp = UsersOperations().get_users(params)
        obj = resp.get_object()
        if not isinstance(obj, UsersResponse):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        users = obj.get_users()
        expect(users, "no users")
        for u in users:
            expect(isinstance(u.get_id(), int) and u.get_email(), f"user {u.get_id()!r}")
        statuses = sorted({u.get_status() for u in users})
        params = ParameterMap()
        params.add(GetUsersParam.type, "ActiveUsers")
        active = UsersOperations().get_users(params).get_object().get_users()
        expect(all(u.get_status() == "active" for u in active), "ActiveUsers holds an inactive user")
        cur = ParameterMap()
        cur.add(GetUsersParam.type, "CurrentUser")
        me = UsersOperations().get_users(cur).get_object().get_users()
        expect(len(me) == 1, f"CurrentUser gave {len(me)} users")
        return f"{len(users)} users ({', '.join(statuses)}), {len(active)} active, current {me[0].get_email()}"

    def auto_refresh_fields(self):
        """With auto_refresh_fields the SDK reads settings/modules and the fields of every module."""
        init = Initializer.get_initializer()
        saved = (init.sdk_config, init.resource_path)
        fresh = os.path.join(self.args.work, "auto-refresh")
        os.makedirs(fresh, exist_ok=True)
        init.sdk_config = SDKConfig(auto_refresh_fields=True, pick_list_validation=True)
        init.resource_path = fresh
        try:
            rec = records_of(RecordOperations("Accounts").get_record(self.account_ids[0]), "get").get_data()[0]
        finally:
            init.sdk_config, init.resource_path = saved
        expect(rec.get_key_value("Account_Number") == self.number(0), "Account_Number")
        cache_dir = os.path.join(fresh, "resources")  # the SDK's field cache
        files = os.listdir(cache_dir) if os.path.isdir(cache_dir) else []
        expect(files, "the SDK wrote no field cache")
        with open(os.path.join(cache_dir, files[0])) as f:
            cached = json.load(f)
        listed = cached.get("SDK-MODULE-METADATA") or {}
        modules = [k for k, v in cached.items() if isinstance(v, dict) and v and k != "SDK-MODULE-METADATA"]
        expect(listed and sorted(listed) == sorted(modules),
               f"fields of {len(modules)} of the {len(listed)} api_supported modules cached")
        return f"settings/modules then settings/fields of {len(modules)} modules parsed, record typed"

    def modules_modified_since(self):
        headers = HeaderMap()
        headers.add(GetModulesHeader.if_modified_since, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
        resp = ModulesOperations().get_modules(None, headers)
        expect(resp.get_status_code() == 304, f"HTTP {resp.get_status_code()}, expected 304")
        return "settings/modules with a future If-Modified-Since: 304"

    def record_count(self):
        resp = RecordOperations("Contacts").record_count(ParameterMap())
        obj = resp.get_object()
        expect(isinstance(obj, CountWrapper), f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        return f"{obj.get_count()} records"

    def user_by_id(self):
        resp = UsersOperations().get_user(self.user_ids[0])
        obj = resp.get_object()
        expect(isinstance(obj, UsersResponse), f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        expect(obj.get_users()[0].get_id() == self.user_ids[0], "another user")
        return "GET /users/{id}"

    def org(self):
        resp = OrgOperations().get_organization()
        obj = resp.get_object()
        if not isinstance(obj, OrgResponse):
            raise CheckFailed(f"HTTP {resp.get_status_code()} {type(obj).__name__}")
        org = obj.get_org()[0]
        expect(str(org.get_id()).isdigit(), f"id {org.get_id()!r}")  # the SDK types Org.id as a string
        expect(org.get_zgid(), "no zgid")
        expect(org.get_time_zone(), "no time_zone")
        expect(org.get_iso_code(), "no iso_code")
        return f"org {org.get_company_name()!r}, zgid {org.get_zgid()}, {org.get_time_zone()}, {org.get_iso_code()}"

    def all(self):
        r = self.r
        if r.run("oauth.refresh_token", self.initialize) is None:
            return
        r.run("oauth.token_errors", self.token_errors)
        r.run("records.insert.accounts", self.insert_accounts)
        self.user_ids = [u.get_id() for u in UsersOperations().get_users().get_object().get_users()]
        if not self.account_ids:
            return
        r.run("records.insert.multi_status", self.insert_contacts)
        r.run("records.insert.mandatory", self.insert_mandatory_missing)
        r.run("records.insert.datetime", self.insert_event)
        r.run("records.insert.typed_values", self.insert_deals)
        r.run("records.insert.duplicate", self.insert_duplicate)
        r.run("records.insert.too_long", self.insert_too_long)
        r.run("records.insert.over_100", self.insert_over_limit)
        r.run("custom_module.insert", self.custom_module)
        r.run("custom_module.upsert", self.custom_upsert)
        r.run("records.list.paging", self.get_records_paged)
        r.run("records.list.sorted", self.get_records_sorted)
        r.run("records.list.page_token", self.get_records_page_token)
        r.run("records.list.fields_required", self.get_records_fields_required)
        r.run("records.list.ids", self.get_records_ids)
        r.run("records.list.if_modified_since", self.get_records_modified_since)
        r.run("records.list.per_page_limit", self.get_records_per_page)
        r.run("records.get", self.get_record)
        r.run("records.get.unknown", self.get_record_unknown)
        r.run("records.update.batch", self.update_records)
        r.run("records.update.one", self.update_one)
        r.run("records.update.unknown_id", self.update_unknown)
        r.run("records.upsert", self.upsert)
        r.run("records.upsert.unique_field", self.upsert_unique)
        r.run("records.upsert.bad_check_field", self.upsert_bad_check_field)
        r.run("search.criteria", self.search_criteria)
        r.run("search.email", self.search_email)
        r.run("search.word", self.search_word)
        r.run("search.criteria.between", self.search_date_between)
        r.run("search.criteria.in_or", self.search_in_or)
        r.run("search.phone", self.search_phone)
        r.run("search.no_match", self.search_none)
        r.run("coql", self.coql)
        r.run("coql.syntax_error", self.coql_syntax_error)
        self.deleted = []
        r.run("records.delete.batch", self.delete)
        r.run("records.delete.one", self.delete_one)
        r.run("records.deleted", self.deleted_records)
        r.run("records.deleted.if_modified_since", self.deleted_modified_since)
        r.run("metadata.fields", self.fields)
        r.run("metadata.modules", self.modules)
        r.run("metadata.users", self.users)
        r.run("metadata.org", self.org)
        r.run("metadata.auto_refresh_fields", self.auto_refresh_fields)
        r.run("metadata.modules.if_modified_since", self.modules_modified_since)
        r.run("records.count", self.record_count)
        r.run("metadata.users.by_id", self.user_by_id)
        r.run("oauth.expired_token", self.expired_token)
        r.run("oauth.refresh_by_clock", self.refresh_by_clock)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the emulator's origin, e.g. http://127.0.0.1:4280")
    parser.add_argument("--client", default=os.environ.get("ZCRM_SDK_CHECK_CLIENT"),
                        help="CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN registered with --oauth-client "
                             "(default: $ZCRM_SDK_CHECK_CLIENT)")
    parser.add_argument("--work", help="folder for the SDK's token store, field cache and log (default: a temp dir)")
    args = parser.parse_args()
    if not args.client or args.client.count(":") < 2:
        parser.error("--client ID:SECRET:REFRESH is required")
    args.url = args.url.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="zcrm-sdk-check-") as tmp:
        if not args.work:
            args.work = tmp
        os.makedirs(args.work, exist_ok=True)
        runner = Runner()
        Check(args, runner).all()
    print(f"{runner.passed} passed, {runner.failed} failed, {runner.diffs} expected differences")
    return 0 if runner.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
