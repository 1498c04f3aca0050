"""The setup and migration workbooks, each kind declared once: sheets, columns, lists.

``workbook-engine template setup --kind K`` writes one of these kinds; the same declaration
drives the template writer and report (``workbooks.grid_writer``), the reader (our template by
its hidden key row, or a Mifos X / Fineract workbook by its sheet name and the columns'
``aliases``), the cell-by-cell parsing (``validation.setup_import``) and the posting
(``services.setup_import``). The kinds, in the order an institution loads them:

=================  ==========================  =================================  ==========
kind               sheets                      each row becomes                   Fineract
=================  ==========================  =================================  ==========
offices            Offices                     an office (parent above or known)  Offices
staff              Staff                       a member of staff                  Employee
centers            Centers                     a center with its meeting calendar Centers
groups             Groups                      a group (in a center, or meeting), Groups
                                               with its members (clients)
products           Loan products,              a loan product / savings product   (none)
                   Savings products
(clients)          the client import template  ``template clients`` (issue 6)     Clients
loans              Loans                       a live loan (migrate_loan)         Loans
savings            Savings                     a savings account with its balance SavingsAccounts
repayments         Repayments                  one repayment of a loan's history  LoanRepayment
savings_history    Savings transactions        one deposit or withdrawal of an    SavingsTransaction
                                               account's history
=================  ==========================  =================================  ==========

Every grid sheet: row 1 the headers ("*" marks a mandatory column, a comment says what it
takes), row 2 the column keys (hidden), data from row 3; column A is the row key, the last
column the "Import status" the engine writes in the report. Dropdown lists
(``ColumnSpec.choices``) are either *records* (``offices``, ``staff``, ``centers``,
``groups``, ``clients``, ``loan_products``, ``savings_products``: names of what already
exists) or *choices* of a fixed vocabulary (:data:`CHOICES`, label -> value).

Columns with ``variant="fineract"`` exist only in Fineract workbooks (their loans carry the
original terms and the amount repaid instead of what is outstanding); a template of ours is
written with no variant, so they are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbook_engine.workbooks.declaration import CellType, ColumnSpec, SheetSpec, WorkbookKind

PREFIX = "setup_"
ROW_KEY = "row_key"
STATUS_KEY = "status"
FINERACT = "fineract"
LOOKUP_SHEET = "_lookups"
INSTRUCTIONS_SHEET = "Instructions"

_C = CellType

CHOICES: dict[str, dict[str, str]] = {
    "yes_no": {"Yes": "yes", "No": "no"},
    "frequencies": {"Weekly": "weekly", "Monthly": "monthly"},
    "weekdays": {"Mon": "0", "Tue": "1", "Wed": "2", "Thu": "3", "Fri": "4", "Sat": "5",
                 "Sun": "6"},
    "weeks_of_month": {"1": "1", "2": "2", "3": "3", "4": "4", "Last": "-1"},
    "interest_methods": {"Flat": "flat", "Declining balance": "declining_balance"},
    "repayment_units": {"Weeks": "weeks", "Months": "months"},
    "deposit_types": {"Mandatory": "mandatory", "Voluntary": "voluntary"},
    "deposit_units": {"Per group": "per_group", "Per client": "per_client"},
    "borrower_types": {"Client": "client", "Group": "group"},
    "owner_types": {"Client": "client", "Group": "group", "Center": "center"},
    # Mifos X / Fineract loans' own terms (their drop-downs' words).
    "period_units": {"Days": "days", "Weeks": "weeks", "Months": "months"},
    "rate_periods": {"Per month": "month", "Per year": "year"},
    "amortizations": {"Equal installments": "equal_installments",
                      "Equal principal payments": "equal_principal"},
    "savings_transaction_types": {"Deposit": "deposit", "Withdrawal": "withdrawal"},
}
"""Fixed vocabularies: the label shown in the dropdown -> the value the service takes."""

CHOICE_ALIASES: dict[str, dict[str, str]] = {
    "yes_no": {"y": "yes", "true": "yes", "1": "yes", "x": "yes", "active": "yes",
               "n": "no", "false": "no", "0": "no"},
    "weekdays": {"monday": "0", "tuesday": "1", "wednesday": "2", "thursday": "3",
                 "friday": "4", "saturday": "5", "sunday": "6"},
    "weeks_of_month": {"-1": "-1", "last": "-1"},
    "borrower_types": {"individual": "client", "jlg": "client"},
    "owner_types": {"individual": "client"},
    "interest_methods": {"declining": "declining_balance"},
    "period_units": {"day": "days", "week": "weeks", "month": "months"},
    "rate_periods": {"month": "month", "monthly": "month", "year": "year", "yearly": "year",
                     "per annum": "year", "annual": "year"},
}
"""Other spellings accepted when reading (e.g. Fineract's True/False, Individual, Monday)."""

RECORD_LISTS = ("offices", "staff", "loan_officers", "centers", "groups", "clients",
                "loan_products", "savings_products")
"""Dropdown lists of records that already exist (names; resolved against the database)."""


def _text(key: str, header: str, help: str, *, mandatory: bool = False, width: float = 16,
          aliases: tuple[str, ...] = (), variant: str | None = None) -> ColumnSpec:
    return ColumnSpec(key, header, _C.TEXT, input=True, width=width, mandatory=mandatory,
                      aliases=aliases, variant=variant, help=help)


def _date(key: str, header: str, help: str, *, mandatory: bool = False,
          aliases: tuple[str, ...] = (), variant: str | None = None) -> ColumnSpec:
    return ColumnSpec(key, header, _C.DATE, input=True, width=13, mandatory=mandatory,
                      aliases=aliases, variant=variant, help=help + " A date, YYYY-MM-DD.")


def _money(key: str, header: str, help: str, *, mandatory: bool = False,
           aliases: tuple[str, ...] = (), variant: str | None = None) -> ColumnSpec:
    return ColumnSpec(key, header, _C.MONEY, input=True, width=14, mandatory=mandatory,
                      aliases=aliases, variant=variant, help=help)


def _int(key: str, header: str, help: str, *, mandatory: bool = False,
         aliases: tuple[str, ...] = (), variant: str | None = None) -> ColumnSpec:
    return ColumnSpec(key, header, _C.INTEGER, input=True, width=10, mandatory=mandatory,
                      aliases=aliases, variant=variant, help=help)


def _choice(key: str, header: str, choices: str, help: str, *, mandatory: bool = False,
            width: float = 18, aliases: tuple[str, ...] = (),
            variant: str | None = None) -> ColumnSpec:
    return ColumnSpec(key, header, _C.CHOICE, input=True, choices=choices, width=width,
                      mandatory=mandatory, aliases=aliases, variant=variant, help=help)


_ROW = ColumnSpec(ROW_KEY, "Row key", _C.TEXT, input=True, width=8, mandatory=True,
                  help="A short reference of the row, unique in the file (pre-filled).")
_STATUS = ColumnSpec(STATUS_KEY, "Import status", _C.TEXT, width=40,
                     aliases=("Status", "Import status"),
                     help="Written by the engine: 'Imported: office N' or what to correct.")
_EXTERNAL = _text("external_id", "External id", "The record's id in the old system, unique; "
                  "never used twice.", width=14, aliases=("External Id", "External ID"))
_OFFICE = _choice("office", "Office", "offices", "Choose the office from the list (it must "
                  "exist: offices are loaded first).", mandatory=True, width=20,
                  aliases=("Office Name",))


def _meeting(prefix_help: str) -> tuple[ColumnSpec, ...]:
    return (
        _date("meeting_start", "First meeting", prefix_help + " The date of the first "
              "meeting; the calendar runs from it.",
              aliases=("Meeting Start Date (On or After)", "Meeting Start Date")),
        # "Repeats" and "Every": the Mifos X data import tool's headers before "Frequency"
        # and "Interval".
        _choice("frequency", "Meets", "frequencies", "Weekly or Monthly (blank: weekly).",
                width=10, aliases=("Frequency", "Repeats")),
        _int("interval", "Every", "Every how many weeks or months (blank: 1).",
             aliases=("Interval",)),
        _choice("weekday", "Weekday", "weekdays", "The day of the week (blank: the first "
                "meeting's weekday).", width=9, aliases=("Repeats On", "Repeats On Day")),
        _choice("week_of_month", "Week of month", "weeks_of_month", "For a monthly meeting on "
                "a weekday: 1 to 4, or Last.", width=9),
    )


def _fineract_state(what: str) -> tuple[ColumnSpec, ...]:
    """Mifos X / Fineract's columns of a center's or group's state and calendar kind."""
    return (
        _choice("active", "Active", "yes_no", f"True for an active {what} (the engine takes "
                "active ones only).", variant=FINERACT),
        _date("submitted_on", "Submitted On Date", "When it was submitted: its activation "
              "date when 'Activation Date' is blank.", variant=FINERACT,
              aliases=("Submitted On",)),
        _choice("repeating", "Repeat", "yes_no", "True: the meeting repeats (the engine's "
                "meetings always do).", variant=FINERACT, aliases=("Is Repeating",)),
    )


OFFICE_COLUMNS = (
    _ROW,
    _text("name", "Office name", "The office's name, unique (at most 100 characters).",
          mandatory=True, width=22, aliases=("Office Name",)),
    _choice("parent", "Parent office", "offices", "The office above it: one that exists, or "
            "one on a row ABOVE in this sheet. Blank only for the head office of a new "
            "institution.", width=22, aliases=("Parent Office",)),
    _date("opening_date", "Opened on", "The day the office opened (not in the future, not "
          "before its parent).", mandatory=True, aliases=("Opened On Date", "Opened On")),
    _EXTERNAL,
    _STATUS,
)

STAFF_COLUMNS = (
    _ROW,
    _OFFICE,
    _text("first_name", "First name", "At most 50 characters.", mandatory=True,
          aliases=("First Name",)),
    _text("last_name", "Last name", "At most 50 characters.", mandatory=True,
          aliases=("Last Name",)),
    _choice("is_loan_officer", "Loan officer", "yes_no", "Yes when they run centers, groups "
            "and loans.", width=9, aliases=("Is Loan Officer",)),
    _choice("is_supervisor", "Supervisor", "yes_no", "Yes when they approve workbooks.",
            width=9, aliases=("Is Supervisor",)),
    _choice("is_clerk", "Clerk", "yes_no", "Yes for an office clerk.", width=9),
    _text("email", "E-mail", "Their e-mail address (unique), used to sign in and to send "
          "workbooks.", width=24, aliases=("Email",)),
    _text("mobile_no", "Mobile number", "Their mobile number (text: leading zeros stay).",
          width=15, aliases=("Mobile no", "Mobile Number")),
    _date("joined_on", "Joined on", "The day they joined (not in the future).",
          aliases=("Joined on",)),
    _choice("active", "Active", "yes_no", "Yes (blank) or No.", width=8,
            aliases=("Is Active",)),
    _EXTERNAL,
    _STATUS,
)

_LOAN_OFFICER = _choice("staff", "Loan officer", "loan_officers", "An active loan officer of "
                        "the row's office.", width=20, aliases=("Staff Name",))

CENTER_COLUMNS = (
    _ROW,
    _text("name", "Center name", "Unique in its office.", mandatory=True, width=20,
          aliases=("Center Name",)),
    _OFFICE,
    _LOAN_OFFICER,
    *_meeting("Mandatory for a center."),
    _date("activation_date", "Activated on", "Blank: the first meeting (or today if that is "
          "later).", aliases=("Activation Date",)),
    _EXTERNAL,
    *_fineract_state("center"),
    _STATUS,
)

GROUP_COLUMNS = (
    _ROW,
    _text("name", "Group name", "Unique in its center (or office).", mandatory=True,
          width=20, aliases=("Group Name",)),
    _OFFICE,
    _choice("center", "Center", "centers", "The center it meets with; blank for a group "
            "with its own meeting calendar.", width=20, aliases=("Center Name",)),
    _LOAN_OFFICER,
    *_meeting("Only for a group without a center."),
    _date("activation_date", "Activated on", "Blank: the first meeting (or today if that is "
          "later).", aliases=("Activation Date",)),
    ColumnSpec("members", "Members", _C.TEXT, input=True, width=30, spread=True,
               aliases=("Client Names (Enter in consecutive cells horizontally)",
                        "Client Names"),
               help="Clients already in the engine who belong to the group, as listed "
                    "('name #id'), separated by ';'. Clients loaded later join their group "
                    "through the client import's Group column."),
    _EXTERNAL,
    *_fineract_state("group"),
    _STATUS,
)

_PRODUCT_COMMON = (
    _ROW,
    _text("name", "Product name", "Unique (at most 100 characters).", mandatory=True,
          width=22),
    _text("short_name", "Short name", "Unique, at most 10 characters (e.g. BIA).",
          mandatory=True, width=10),
    _text("currency", "Currency", "Three-letter ISO code, e.g. KES.", mandatory=True,
          width=9),
    _int("currency_digits", "Decimals", "Decimals of the currency (blank: 2)."),
)

LOAN_PRODUCT_COLUMNS = (
    *_PRODUCT_COMMON,
    _money("annual_interest_rate", "Interest % a year", "The nominal annual interest rate, "
           "e.g. 24.", mandatory=True),
    _choice("interest_method", "Interest method", "interest_methods", "Flat or Declining "
            "balance.", mandatory=True),
    _int("repayment_every", "Repaid every", "Every how many weeks or months.",
         mandatory=True),
    _choice("repayment_unit", "Repayment unit", "repayment_units", "Weeks or Months.",
            mandatory=True, width=10),
    _int("number_of_repayments", "Repayments", "The number of installments.",
         mandatory=True),
    _choice("interest_deducted", "Interest deducted at disbursal", "yes_no", "Yes: the flat "
            "interest is deducted when the loan is paid out (blank: No).", width=12),
    _money("min_principal", "Minimum principal", "Smallest amount that may be lent."),
    _money("max_principal", "Maximum principal", "Largest amount that may be lent."),
    _STATUS,
)

SAVINGS_PRODUCT_COLUMNS = (
    *_PRODUCT_COMMON,
    _choice("deposit_type", "Deposit type", "deposit_types", "Mandatory (expected at every "
            "meeting) or Voluntary.", mandatory=True, width=12),
    _money("recommended_deposit", "Recommended deposit", "What is expected at each meeting "
           "(0 for none).", mandatory=True),
    _choice("deposit_unit", "Deposit unit", "deposit_units", "Per group or Per client "
            "(blank: per group).", width=12),
    _choice("allow_overdraft", "Overdraft allowed", "yes_no", "Yes when the balance may go "
            "below zero (blank: No).", width=10),
    _STATUS,
)

_AS_OF = _date("as_of", "Figures as of", "The migration date: the old system's figures at "
               "the close of this day (not in the future).", mandatory=True)

LOAN_COLUMNS = (
    _ROW,
    _AS_OF,
    _OFFICE,
    _choice("borrower_type", "Borrower type", "borrower_types", "Client (blank) or Group.",
            width=10, aliases=("Loan Type",)),
    _choice("borrower", "Borrower", "borrowers", "The client (as listed: name #id) or the "
            "group; an active client or group of the office.", mandatory=True, width=26,
            aliases=("Client/Group Name", "Client Name")),
    _text("client_external_id", "Client external id", "Instead of choosing the borrower: "
          "the client's external id.", width=14, aliases=("Client ExternalID",)),
    _choice("product", "Product", "loan_products", "The loan product.", mandatory=True,
            width=18, aliases=("Product",)),
    _choice("loan_officer", "Loan officer", "loan_officers", "An active loan officer of the "
            "office (blank: none).", width=20, aliases=("Loan Officer",)),
    _money("principal_outstanding", "Principal outstanding", "Principal still owed at the "
           "close of the migration date (more than 0).", mandatory=True),
    _money("interest_outstanding", "Interest outstanding", "Interest still owed (0 or more).",
           mandatory=True),
    _money("arrears_amount", "Arrears", "Principal and interest that fell due on or before "
           "the migration date and is unpaid (blank: 0)."),
    _date("arrears_since", "Arrears since", "When the oldest unpaid installment fell due "
          "(blank: the migration date)."),
    _money("arrears_interest", "Arrears interest", "How much of the arrears is interest "
           "(blank: in proportion)."),
    _int("remaining_installments", "Remaining installments", "Installments due after the "
         "migration date.", mandatory=True),
    _date("next_due_date", "Next due date", "The first due date after the migration date: a "
          "meeting day of the borrower."),
    _money("original_principal", "Original principal", "The amount disbursed (blank: the "
           "principal outstanding)."),
    _money("interest_paid", "Interest paid", "Interest already repaid in the old system "
           "(blank: 0)."),
    _date("disbursed_on", "Disbursed on", "The disbursal date (blank: the arrears date, else "
          "the migration date).", aliases=("Disbursed Date",)),
    _EXTERNAL,
    # Mifos X / Fineract loans carry the original terms and what was repaid in total.
    _money("principal", "Principal", "The principal disbursed.", variant=FINERACT,
           mandatory=True),
    _int("number_of_repayments", "# of Repayments", "", variant=FINERACT,
         aliases=("Number of Repayments",)),
    _money("rate", "Nominal Interest %", "", variant=FINERACT),
    _int("repaid_every", "Repaid Every", "", variant=FINERACT),
    # Fineract leaves the unit columns right of "Repaid Every" and "Nominal Interest %"
    # without a header: SetupSheet.fineract_unnamed finds them by their neighbour.
    _choice("repaid_every_unit", "Repaid Every unit", "period_units", "Days, Weeks or Months "
            "(blank: the product's).", variant=FINERACT),
    _choice("rate_period", "Nominal Interest % period", "rate_periods", "Per month or Per "
            "year (blank: per year).", variant=FINERACT),
    _choice("amortization", "Amortization", "amortizations", "Equal installments or Equal "
            "principal payments.", variant=FINERACT),
    _choice("interest_method", "Interest Method", "interest_methods", "Flat or Declining "
            "Balance (blank: the product's).", variant=FINERACT),
    _money("amount_repaid", "Amount Repaid", "", variant=FINERACT,
           aliases=("Total Amount Repaid",)),
    _date("last_repayment_on", "Date-Last Repayment", "When the amount repaid was last "
          "paid (blank: the day the file is processed).", variant=FINERACT),
    # Terms the engine's schedules do not have: taken when they change nothing (a first
    # repayment where the engine puts installment 1, a grace of 0), else refused on the cell.
    _date("first_repayment_on", "First Repayment On", "When installment 1 fell due (blank: "
          "one period after the disbursal, at the borrower's meeting).", variant=FINERACT),
    _date("interest_charged_from", "Interest Charged From", "When interest started (blank: "
          "the disbursal, the only start the engine's schedules have).", variant=FINERACT),
    _int("grace_on_principal", "Grace-Principal Payment", "Blank or 0: the engine builds "
         "schedules without grace periods.", variant=FINERACT),
    _int("grace_on_interest", "Grace-Interest Payment", "Blank or 0.", variant=FINERACT),
    _int("interest_free_periods", "Interest-Free Period(s)", "Blank or 0.", variant=FINERACT),
    _STATUS,
)

SAVINGS_COLUMNS = (
    _ROW,
    _AS_OF,
    _OFFICE,
    _choice("owner_type", "Owner type", "owner_types", "Client (blank), Group or Center.",
            width=10, aliases=("Individual/Group",)),
    _choice("owner", "Owner", "owners", "The client (as listed: name #id), group or center "
            "holding the account.", mandatory=True, width=26, aliases=("Client Name",)),
    _text("client_external_id", "Client external id", "Instead of choosing the owner: the "
          "client's external id.", width=14, aliases=("Client ExternalID",)),
    _choice("product", "Product", "savings_products", "The savings product.", mandatory=True,
            width=18, aliases=("Product",)),
    _money("balance", "Balance", "The balance at the close of the migration date (in a Mifos "
           "X / Fineract workbook, which has none: 0, its transactions bring it).",
           mandatory=True, aliases=("Account Balance", "Balance")),
    _date("opened_on", "Opened on", "When the account was opened in the old system: it is "
          "active from that day (blank: the migration date); its mandatory deposits are due "
          "from the first meeting after the migration.", aliases=("Activation Date",)),
    _date("submitted_on", "Submitted On", "When it was submitted (its opening date).",
          variant=FINERACT),
    _date("approved_on", "Approved On", "When it was approved: its activation date when "
          "'Activation Date' is blank.", variant=FINERACT),
    _text("currency", "Currency", "The account's currency, as Fineract's product look-up "
          "fills it (blank: the product's); another than the product's is refused.",
          width=8, variant=FINERACT),
    _money("recommended_deposit", "Recommended deposit", "This account's own recommended "
           "deposit (blank: the product's)."),
    _EXTERNAL,
    _STATUS,
)


_HISTORY_OWNER = _text("borrower", "Client", "The client as listed (name #id), or as Mifos X "
                       "writes it, \"Name(12)\"; blank: the row above's.", mandatory=True,
                       width=26, aliases=("Client Name",))
_RECEIPT = _text("receipt_no", "Receipt number", "The receipt of the old system (kept with "
                 "the transaction).", width=12, aliases=("Receipt No",))
HISTORY_FIGURES = frozenset({"owed_after", "balance_after"})
"""The figures the engine writes beside each history row of a report (never read as input,
never part of the row's fingerprint)."""

_PAYMENT_TYPE = _text("payment_type", "Payment type", "How it was paid (Cash, MPesa, ...), "
                      "as the old system names it.", width=12, aliases=("Type",))

REPAYMENT_COLUMNS = (
    _ROW,
    _OFFICE,
    _HISTORY_OWNER,
    _text("loan", "Loan", "The loan: its account number in the engine, its external id, or "
          "the old system's account number when the client has one loan of the product; "
          "blank: the row above's (Fineract's own rule).", mandatory=True, width=14,
          aliases=("Loan Account No.", "Account No.")),
    _text("product", "Product", "The loan's product (to tell the client's loans apart).",
          width=16, aliases=("Product Name",)),
    _money("principal", "Principal", "The loan's principal (to tell the client's loans "
           "apart)."),
    _money("amount", "Amount repaid", "What was repaid that day (more than 0).",
           mandatory=True, aliases=("Amount Repaid",)),
    _date("on_date", "Repaid on", "The day it was repaid (not in the future, not before the "
          "disbursal, not before the loan's last transaction).", mandatory=True,
          aliases=("Date",)),
    _PAYMENT_TYPE,
    _RECEIPT,
    ColumnSpec("owed_after", "Owed after", _C.MONEY, width=14, help="Written by the engine: "
               "what the loan still owes once this repayment is in."),
    _STATUS,
)

SAVINGS_TRANSACTION_COLUMNS = (
    _ROW,
    _OFFICE,
    _HISTORY_OWNER,
    _text("account", "Savings account", "The account: its number in the engine, its "
          "external id, or the old system's account number when the client has one account "
          "of the product; blank: the row above's (Fineract's own rule).", mandatory=True,
          width=14, aliases=("Account No.", "Savings Account No.")),
    _text("product", "Product", "The account's product (to tell the client's accounts "
          "apart).", width=16, aliases=("Product Name",)),
    _choice("transaction_type", "Transaction", "savings_transaction_types", "Deposit or "
            "Withdrawal.", mandatory=True, width=12, aliases=("Transaction Type",)),
    _money("amount", "Amount", "The amount (more than 0).", mandatory=True),
    _date("on_date", "On", "The day of the transaction (not in the future, not before the "
          "account was opened, not before its last transaction).", mandatory=True,
          aliases=("Date",)),
    _PAYMENT_TYPE,
    _RECEIPT,
    ColumnSpec("balance_after", "Balance after", _C.MONEY, width=14, help="Written by the "
               "engine: the account's balance once this transaction is in."),
    _STATUS,
)


@dataclass(frozen=True)
class SetupSheet:
    """One grid sheet of a setup kind: its columns, what its rows become, and how a
    Mifos X / Fineract workbook names it.

    ``defines`` is the record list the sheet's rows add to (by their ``name`` column), so a
    later row of the same sheet may name an earlier one (a parent office above).
    ``carried`` are the columns a row takes from the row above when its first one is blank
    (a Fineract history row without an account number is the account of the row above).
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    record: str  # what a row becomes: office, member of staff, ...
    fineract_sheets: tuple[str, ...] = ()
    defines: str | None = None
    carried: tuple[str, ...] = ()
    fineract_unnamed: tuple[tuple[str, str], ...] = ()  # (key, key of the column to its left)


@dataclass(frozen=True)
class SetupKind:
    """One setup or migration workbook kind."""

    key: str  # offices, staff, ...
    title: str
    sheets: tuple[SetupSheet, ...]
    workbook: WorkbookKind
    needs: tuple[str, ...]  # the kinds to load before this one
    migration: bool = False  # a live-portfolio kind (figures as of a date, reconciliation)

    @property
    def name(self) -> str:
        """The workbook kind recorded and signed (``setup_offices``, ...)."""
        return self.workbook.name

    def sheet(self, name: str) -> SetupSheet:
        """The sheet with this name."""
        return next(s for s in self.sheets if s.name == name)


def _kind(key: str, title: str, sheets: tuple[SetupSheet, ...], needs: tuple[str, ...],
          migration: bool = False) -> SetupKind:
    workbook = WorkbookKind(
        name=PREFIX + key, title=title, template_version=1, data_sheet=sheets[0].name,
        metadata_sheet="_workbook", header_fields=(), columns=sheets[0].columns,
        metadata_fields=("workbook_id", "kind", "template_version", "center_id", "group_id",
                         "meeting_date", "generated_at", "key_id", "office_id", "variant"),
        section_row=1, header_row=1, key_row=2, first_data_row=3,
        extra_sheets=tuple(SheetSpec(s.name, s.columns) for s in sheets[1:]))
    return SetupKind(key, title, sheets, workbook, needs, migration)


SETUP_KINDS: dict[str, SetupKind] = {k.key: k for k in (
    _kind("offices", "Offices", (SetupSheet("Offices", OFFICE_COLUMNS, "office",
                                            ("Offices",), defines="offices"),), ()),
    _kind("staff", "Staff", (SetupSheet("Staff", STAFF_COLUMNS, "member of staff",
                                        ("Employee", "Staff")),), ("offices",)),
    # The Mifos X data import tool named its centers sheet "Groups" (headed "Center Name").
    _kind("centers", "Centers", (SetupSheet("Centers", CENTER_COLUMNS, "center",
                                            ("Centers", "Groups")),), ("offices", "staff")),
    _kind("groups", "Groups", (SetupSheet("Groups", GROUP_COLUMNS, "group", ("Groups",)),),
          ("offices", "staff", "centers")),
    _kind("products", "Products", (
        SetupSheet("Loan products", LOAN_PRODUCT_COLUMNS, "loan product"),
        SetupSheet("Savings products", SAVINGS_PRODUCT_COLUMNS, "savings product")), ()),
    _kind("loans", "Live loans", (SetupSheet("Loans", LOAN_COLUMNS, "loan", ("Loans",),
                                             fineract_unnamed=(("repaid_every_unit",
                                                                "repaid_every"),
                                                               ("rate_period", "rate"))),),
          ("offices", "staff", "centers", "groups", "products", "clients"), migration=True),
    _kind("savings", "Savings balances", (SetupSheet("Savings", SAVINGS_COLUMNS,
                                                     "savings account",
                                                     ("SavingsAccounts", "Savings")),),
          ("offices", "centers", "groups", "products", "clients"), migration=True),
    _kind("repayments", "Repayment history", (SetupSheet(
        "Repayments", REPAYMENT_COLUMNS, "repayment", ("LoanRepayment",),
        carried=("loan", "office", "borrower", "product", "principal")),), ("loans",)),
    _kind("savings_history", "Savings transaction history", (SetupSheet(
        "Savings transactions", SAVINGS_TRANSACTION_COLUMNS, "savings transaction",
        ("SavingsTransaction",), carried=("account", "office", "borrower", "product")),),
          ("savings",)),
)}
"""Every setup kind, in the order an institution loads them."""

LIST_KINDS: dict[str, str] = {
    "offices": "offices", "staff": "staff", "loan_officers": "staff", "centers": "centers",
    "groups": "groups", "clients": "clients", "loan_products": "products",
    "savings_products": "products", "loans": "loans", "savings_accounts": "savings"}
"""Which kind's template loads the records of each record list (for "load X first")."""


def kind_of(workbook_kind: str) -> SetupKind | None:
    """The setup kind of a signed workbook kind (``setup_staff``), or None."""
    if not workbook_kind.startswith(PREFIX):
        return None
    return SETUP_KINDS.get(workbook_kind[len(PREFIX):])


FINERACT_DERIVED = frozenset({"as_of", "principal_outstanding", "interest_outstanding",
                              "remaining_installments", "balance"})
"""Columns a Fineract workbook does not have: the figures are as of the day it is processed,
a Fineract loan's outstanding figures are worked out from its terms and amount repaid, and a
Fineract savings account opens at 0 (its savings transaction history brings the balance)."""


def columns_for(sheet: SetupSheet, layout: str) -> tuple[ColumnSpec, ...]:
    """The sheet's columns as read for a layout (``template`` or ``fineract``)."""
    if layout != FINERACT:
        return tuple(c for c in sheet.columns if c.variant is None)
    return tuple(replace(c, mandatory=False) if c.key in FINERACT_DERIVED else c
                 for c in sheet.columns)
