"""Coded errors. Every error a user can meet has a stable code and says how to fix it.

Codes are grouped: AF0xx input, AF1xx configuration and registries, AF2xx models and
training, AF3xx rule packs, AF4xx service/API, AF5xx store, AF6xx workflow, analytics and
exports.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    # input
    "AF001": "Input line is not valid JSON ({detail}). Write one JSON object per line, e.g. "
             '{{"id": "u1", "text": "电费怎么这么高"}}.',
    "AF002": "Input object needs \"text\" (an utterance) or \"turns\" (a conversation); got keys {detail}.",
    "AF003": "\"text\" must be a string, got {detail}. Quote the message text.",
    "AF004": "\"text\" is empty. Send the customer's words; drop empty messages before analysis.",
    "AF005": "Text is {detail} characters; the limit is {limit}. Split long transcripts into turns.",
    "AF006": "Input is not valid UTF-8 ({detail}). Re-save the file as UTF-8 "
             "(e.g. iconv -f GB18030 -t UTF-8 in.jsonl > out.jsonl).",
    "AF007": "Unknown speaker {detail}. Use \"customer\" or \"agent\".",
    "AF008": "\"turns\" must be a non-empty list of {{\"speaker\", \"text\"}} objects ({detail}).",
    "AF009": "Input line must be a JSON object, got {detail}.",
    "AF010": "Unknown label {detail}. Allowed: {allowed}.",
    "AF011": "Cannot read input file {detail}. Check the path and permissions.",
    "AF012": "Unsupported format {detail}. Use one of: {allowed}.",
    "AF013": "\"context\" must be an object with string values (cause, emotion, customer_text, what, when, "
             "agent), got {detail}. Example: {{\"id\": \"r1\", \"text\": \"...\", \"context\": {{\"cause\": \"billing\"}}}}.",
    "AF014": "Unknown industry {detail}. Use one of: {allowed} (an industry is the name of a pack in "
             "anfu/rules/zh_CN/industries/).",
    "AF015": "Line {detail} could not be analysed ({reason}); the other lines were. Report the line to the "
             "Anfu maintainers if it is valid input.",
    "AF016": "\"id\" must be a string or an integer, got {detail}. Give every record and turn a text or "
             "number id, e.g. {{\"id\": \"u1\"}}, or leave it out.",
    "AF020": "Unknown workflow event {detail}. Known events: {allowed}.",
    # channel intake (anfu/channels/)
    "AF030": "Malformed {channel} payload: {detail}. See the adapter's docstring in anfu/channels/ for the expected shape.",
    "AF031": "{detail} is not valid {encoding}. Re-save it as UTF-8, or declare its encoding "
             "(anfu batch --encoding gb18030; on the API ?encoding=gb18030).",
    "AF032": "Cannot read {detail}. Fix that value and import again.",
    "AF033": "The import lacks the columns {detail}; required: conversation_id, speaker, text "
             "(optional: timestamp, customer; Chinese headers such as 会话ID, 角色, 内容 also work).",
    "AF034": "E-mail {detail} has no readable message text after removing quotes and signatures.",
    "AF035": "No messages found in {detail}. Check that the file is not empty and has the expected format.",
    # batch (anfu/batch/)
    "AF036": "Conversation {detail} comes back after other conversations; a table read by `anfu batch` must "
             "keep each conversation's rows together. Sort the export by conversation id.",
    "AF037": "Cannot resume: {detail}. Run again without --resume to start over, or restore the original input.",
    "AF038": "The output file {detail} would overwrite the input file {input}. Write the results "
             "elsewhere, e.g. -o results.jsonl outside the archive.",
    # configuration and registries
    "AF101": "No {registry} is registered as {detail}. Registered: {allowed}.",
    "AF102": "Bad pipeline configuration: {detail}. See anfu/default_config.toml for every key.",
    "AF103": "Cannot read configuration file {detail}: it must be valid TOML.",
    "AF104": "The {detail} back-end needs an optional package that is not installed: "
             "pip install 'anfu[{extra}]'.",
    "AF105": "Pipeline order: {detail} requires {missing}, which no component before it provides. "
             "Put a component that provides it earlier in [pipeline].components ({providers}).",
    "AF106": "Component {detail} declares {field} in its {kind}, which is not a field of the Assessment "
             "(turn fields are written \"turn.<name>\"). Known: {allowed}.",
    # models and training
    "AF201": "Model weights not found at {detail}. Reinstall anfu or run `anfu train` to create them.",
    "AF202": "Training data {detail} has no usable rows. Give each row the fields that its training "
             "command names (`anfu <command> --help`, corpus/LABELS.md).",
    "AF203": "Training data row {detail}: fix or remove that row.",
    "AF204": "Model file {detail} is damaged or from an incompatible version; retrain with `anfu train`.",
    # rule packs
    "AF301": "Rule pack {detail} is invalid: {reason}. Run `anfu check-rules` for all problems.",
    "AF302": "Rule pack {detail} not found. Packs live in anfu/rules/zh_CN/ or a folder given by --rules.",
    # service settings and security (AF40x settings, AF41x sign-in and access; AF43x+ are free for the API)
    "AF401": "ANFU_SECRET_KEY is missing or weak ({detail}). Outside development set it to at least 32 "
             "random characters, e.g. python -c \"import secrets; print(secrets.token_urlsafe(48))\".",
    "AF402": "Bad setting {detail}. Check the ANFU_* environment variables and the .env file.",
    "AF410": "Sign-in failed: wrong user name, password or one-time code. Check them and try again.",
    "AF411": "This account is locked after too many failed sign-ins until {detail}. Wait or ask an admin to unlock it.",
    "AF412": "Too many sign-in attempts from {detail}. Wait a few minutes before trying again.",
    "AF413": "A one-time code (TOTP) is required: enter the 6-digit code from your authenticator app.",
    "AF414": "Your session has expired or was revoked. Sign in again.",
    "AF415": "The API token is unknown or revoked. Create a new token in the admin settings.",
    "AF416": "Password rejected: {detail}. Use at least 12 characters that are not a common password "
             "and do not contain your user name.",
    "AF417": "You are not allowed to {detail}. Ask a supervisor or admin for access.",
    "AF418": "Unknown role {detail}. Use one of: {allowed}.",
    "AF419": "User {detail} is the last active admin of this tenant; nothing was changed. A tenant keeps at "
             "least one active admin: make another user an admin first (PUT /api/v1/users/{{id}}/role or the "
             "users page /admin/users), then demote or deactivate this one.",
    # API (anfu/server/)
    "AF430": "The request body is not valid JSON ({detail}). Send one JSON object with Content-Type: application/json.",
    "AF431": "The request does not match the API schema: {detail}. See /api/v1/openapi.json for the fields.",
    "AF432": "The request body is larger than {limit} bytes. Split it (e.g. one conversation per request).",
    "AF433": "The request body is not valid UTF-8 ({detail}). Send UTF-8 text; for files in GB18030 use the "
             "intake endpoints with ?encoding=gb18030.",
    "AF434": "No such endpoint {detail}. The API lives under /api/v1 (see /api/v1/openapi.json).",
    "AF435": "Method {detail} is not allowed on this endpoint.",
    "AF436": "CSRF check failed ({detail}). Cookie-authenticated changes need the X-CSRF-Token header with "
             "the csrf_token returned at sign-in (also in the anfu_csrf cookie).",
    "AF437": "Sign in first: send the session cookie from POST /api/v1/auth/login or an API token as "
             "Authorization: Bearer <token>.",
    "AF438": "Origin {detail} may not open this WebSocket. Add it to ANFU_ALLOWED_ORIGINS.",
    "AF439": "Unsupported content type {detail}. Use {allowed}.",
    "AF440": "Internal error (reference {detail}); nothing was changed. Report the reference to your admin.",
    "AF441": "Unknown WebSocket message type {detail}. Use one of: {allowed}.",
    "AF442": "The upload has no file (form field \"file\") or the file is empty.",
    "AF443": "Finish setting up your account first: {detail}.",
    "AF444": "Too many requests: retry after {detail} s (the Retry-After header). The limits per API token, "
             "session and address are ANFU_RATE_LIMIT_PER_MINUTE, ANFU_RATE_LIMIT_IP_PER_MINUTE and "
             "ANFU_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE.",
    "AF445": "Idempotency-Key {detail} was already used {why}; nothing was changed. Send the same request "
             "body again to get the original result, or use a new Idempotency-Key (e.g. a fresh UUID) for a "
             "new request.",
    "AF446": "client_msg_id {detail} was already used for a message with a different text; nothing was stored. "
             "Resend the same text to retry a message, and give every new message its own client_msg_id.",
    # store
    "AF501": "Cannot open the database {detail}. Check ANFU_DATABASE_URL (sqlite:///path or "
             "postgresql+psycopg://user:password@host:port/db) and that the server is reachable.",
    "AF502": "The database schema is at revision {detail}, expected {expected}. Run `anfu db upgrade` "
             "(or anfu.store.upgrade(settings)) before starting the server.",
    "AF503": "No {kind} with id {detail} (or it is not visible to you). Check the id.",
    "AF504": "A {kind} named {detail} already exists. Pick another name.",
    "AF505": "Invalid {kind}: {detail}.",
    # workflow: tickets (AF60x), SLA (AF61x), follow-up (AF62x), CSAT (AF63x), ledger (AF64x),
    # analytics (AF65x), exports (AF66x)
    "AF601": "Unknown {kind} {detail}. Allowed: {allowed}.",
    "AF602": "Ticket {detail} cannot go from status {current!r} to {target!r}. From {current!r} it may go to: "
             "{allowed}.",
    "AF603": "Ticket {detail} cannot move from stage {current} to {target}: the complaint SOP "
             "(接收反馈→确认问题→提供方案→执行方案→跟进回访) advances one stage at a time, and going back "
             "needs a note saying why.",
    "AF604": "Timestamp {detail} has no time zone. Pass aware datetimes, e.g. "
             "datetime(2025, 7, 1, 9, 0, tzinfo=ZoneInfo(\"Asia/Shanghai\")); for naive UTC values from "
             "SQLite use value.replace(tzinfo=timezone.utc).",
    "AF605": "Timestamp {detail} is before the ticket's last change at {last}: the history is append-only "
             "and in time order. Record changes as they happen.",
    "AF606": "Ticket field {detail} must be a non-empty string. Fill it in ({hint}).",
    "AF607": "Ticket {detail} is {status}: {hint}.",
    "AF608": "Ticket {detail} has no survey link to send: {reason}. A CSAT link is sent once per "
             "resolution, after the ticket is resolved.",
    "AF609": "Ticket {detail} was changed by someone else since you read it (you read version {expected}, it "
             "is now at version {current}); nothing was saved. Reload the ticket and apply your change again "
             "(send the new ETag as If-Match).",
    "AF610": "Business calendar {detail} has no open hours in the next {days} days. Add weekdays, hours or "
             "make-up workdays to anfu/rules/zh_CN/sla.yaml.",
    "AF620": "Follow-up (回访) for ticket {detail} is already {state}; only a scheduled follow-up can be "
             "completed or cancelled.",
    "AF621": "A follow-up (回访) is scheduled when a ticket is resolved; ticket {detail} is {status}. "
             "Resolve it first.",
    "AF630": "The survey link is invalid or was altered ({detail}). Open the latest link from the SMS or "
             "e-mail exactly as sent, or ask the service centre for a new one.",
    "AF631": "The survey link expired ({detail}). Ask the service centre to send a new survey link.",
    "AF632": "Satisfaction score must be a whole number from 1 to 5, got {detail}.",
    "AF633": "The satisfaction survey for ticket {detail} was already answered; each survey counts once.",
    "AF634": "Survey needs the application secret (ANFU_SECRET_KEY, at least 16 characters); got {detail}.",
    "AF635": "Ticket {detail} is {status}: a satisfaction survey is sent only after the ticket is resolved.",
    "AF636": "The survey link belongs to ticket {detail}, not to ticket {expected}. Use the ticket's own link.",
    "AF637": "Survey comment is {detail} characters; the limit is {limit}. Shorten the comment.",
    "AF638": "This survey link is for an earlier resolution of ticket {detail}, which was reopened since. "
             "Use the newer link the service centre sends once it is resolved again.",
    "AF640": "Ticket {detail} is not in the 四个不漏 ledger yet. Record it first with ledger.record(ticket).",
    "AF641": "Ledger step {detail} for ticket {ticket} is out of order: {reason}. The order is recorded → "
             "handled → re-checked → fed back to the department.",
    "AF650": "Analytics record {detail}: {reason}. Each conversation needs an id and a date (YYYY-MM-DD "
             "or ISO time); channel, team and agent are optional.",
    "AF651": "Bad analytics filter {detail}: {reason}.",
    "AF660": "No CJK font found for the PDF export (looked for {detail}). Install Debian's fonts-noto-cjk "
             "(`apt-get install -y fonts-noto-cjk`) or pass font_path= a .ttf/.otf/.ttc font with Chinese "
             "glyphs.",
    "AF661": "Cannot write the export to {detail}: {reason}. Check that the folder exists and is writable.",
    # integrations: canned replies (AF670, AF673), webhooks (AF671-AF672), helpdesk connectors (AF675-AF679)
    "AF670": "The canned reply fails the pre-send check ({detail}). Save the compliant wording instead, e.g.: "
             "{rewrite}",
    "AF673": "The canned reply {detail} was changed by someone else since you opened it; nothing was saved. "
             "Reload it, then apply your change again.",
    "AF671": "Webhook URL {detail} is not allowed: {why}.",
    "AF672": "Unknown webhook event(s) {detail}. Subscribe to some of: {allowed}.",
    "AF675": "The {detail} connector is not configured. Set {settings} (see the README's Connectors section).",
    "AF676": "The {detail} webhook is not authentic: {why}. Use the token or secret configured in Anfu.",
    "AF677": "The {detail} payload cannot be used: {why}.",
    "AF678": "Connector setting {detail} is not valid: {why}. Correct it on the connectors page (/admin/connectors).",
    "AF679": "The {detail} connector was set up by someone else while you were saving it; nothing of yours was "
             "saved. Reload the connectors page (/admin/connectors) to see it, then save your change again.",
    # search and conversation lists (issue 13)
    "AF680": "The search query is {detail}: type at least one word, e.g. 退款, a customer's name or a ticket number.",
    "AF681": "The search query is {detail} characters; the limit is {limit}. Search for a few words.",
    "AF682": "Unknown {kind} {detail}. Use one of: {allowed}.",
    "AF683": "A saved view needs a name of 1 to {limit} characters, got {detail}.",
    "AF684": "The {detail} list always shows {status} conversations: drop the status filter, or filter by status in "
             "the mine or team list.",
    # training simulator (AF70x) and agent wellbeing (AF71x)
    "AF701": "No training scenarios found in {detail}. Put scenario files (*.yaml) there, or leave "
             "--scenarios / ANFU_SCENARIOS_DIR unset for the shipped ones (anfu/rules/zh_CN/scenarios/).",
    "AF702": "Unknown scenario {detail}. Known scenarios: {allowed} (see `anfu scenarios`).",
    "AF703": "The scenario is not valid YAML ({detail}). Copy a shipped scenario "
             "(anfu/rules/zh_CN/scenarios/) and edit it.",
    "AF704": "The training session of scenario {detail} is finished. Start a new session to practise again.",
    "AF705": "A simulator reply line needs a \"text\" string ({detail}). Write one JSON object per line, "
             "e.g. {{\"text\": \"您好，非常抱歉让您久等了\"}}.",
    "AF706": "The simulator's LLM back-end is misconfigured ({detail}). Set ANFU_SIMULATOR_LLM_URL to an "
             "OpenAI-compatible chat completions URL and ANFU_SIMULATOR_LLM_MODEL, or leave them unset "
             "for the phrase bank.",
    "AF707": "A scenario with id {detail} already exists. Pick another id.",
    "AF711": "Unknown wellbeing action {detail}. Use one of: {allowed}.",
    "AF712": "A self-check answer must be a whole number from 0 to 4 ({detail}).",
    "AF713": "The private note is {detail} characters; the limit is {limit}. Shorten it.",
    "AF714": "Shift {detail} is not a day: use YYYY-MM-DD.",
    # quality inspection (anfu/inspection/, issue 15)
    "AF801": "Unknown value {detail}. Allowed: {allowed}.",
    "AF802": "Finding {detail} is {status}: only an open finding can be appealed, and an appeal is decided once.",
    "AF803": "The {detail} is {length} characters; it must be 1 to {limit}. Write a short reason or note.",
    "AF804": "A re-checked score must be a number from 0 to 100, got {detail}.",
}


class AnfuError(Exception):
    """An error with a stable code (`AF###`) and a message that says how to fix it."""

    def __init__(self, code: str, detail: Any = "", **fields: Any) -> None:
        self.code = code
        self.detail = detail
        template = MESSAGES.get(code, "{detail}")
        try:
            message = template.format(detail=detail, **fields)
        except (KeyError, IndexError):
            message = f"{template} ({detail})"
        self.message = message
        super().__init__(f"{code}: {message}")

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InputError(AnfuError, ValueError):
    """Bad user input (AF0xx)."""


class ConfigError(AnfuError, ValueError):
    """Bad configuration or an unknown registered name (AF1xx)."""


class ModelError(AnfuError, RuntimeError):
    """Missing or damaged model weights, unusable training data (AF2xx)."""


class RulePackError(AnfuError, ValueError):
    """A rule pack that fails validation (AF3xx)."""


class SettingsError(AnfuError, RuntimeError):
    """Missing, weak or malformed service settings (AF40x)."""


class AuthError(AnfuError, PermissionError):
    """Sign-in, session, token or permission failure (AF41x)."""


class StoreError(AnfuError, RuntimeError):
    """Database unreachable, schema out of date, or a bad write (AF5xx)."""


class NotFoundError(StoreError, LookupError):
    """An id that does not exist or is not visible to the caller (AF503)."""


class WorkflowError(AnfuError, ValueError):
    """A ticket, SLA, follow-up, survey or ledger operation that is not allowed (AF60x-AF64x)."""


class ConflictError(WorkflowError):
    """A write over a version the writer did not read (AF609, AF673, AF679): someone else saved in
    between. The API answers 409 Conflict."""


class PreconditionFailed(ConflictError):
    """The version an API request named in If-Match is no longer current (AF609, AF673): the
    API answers 412 Precondition Failed (RFC 9110); the page forms' version check stays a 409
    `ConflictError`."""

    @classmethod
    def of(cls, conflict: AnfuError) -> "PreconditionFailed":
        failed = cls(conflict.code, conflict.detail)
        failed.message = conflict.message
        failed.args = (f"{conflict.code}: {conflict.message}",)
        return failed


class TrainingError(AnfuError, ValueError):
    """A training scenario or simulator session that cannot be used (AF70x)."""


class WellbeingError(AnfuError, ValueError):
    """A wellbeing check-in, preference or shift that cannot be used (AF71x)."""


class InspectionError(AnfuError, ValueError):
    """Quality inspection: unknown values, appeals out of turn (AF8xx)."""


class AnalyticsError(AnfuError, ValueError):
    """Analytics input or filters that cannot be used (AF65x)."""


class ExportError(AnfuError, RuntimeError):
    """An export that cannot be produced: missing CJK font, unwritable path (AF66x)."""
