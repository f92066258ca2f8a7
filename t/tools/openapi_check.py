#!/usr/bin/python3
"""Validates the answers the Apache::Test suite recorded against openapi.yaml.

t/lib/Cartevo/Test.pm appends every answer a test receives from httpd to
t/logs/openapi_responses.jsonl (LWP agents, raw_request, read_response,
http_head_parse); t/zz_openapi.t runs this script after the other tests.

Each answer is mapped to its operation (path template and method; HEAD is
checked as GET, without a body), its response is picked by status (the spec
has no `default` responses: an undocumented status is a mismatch), and then:
JSON answers must say `Content-Type: application/json` and their body must
validate against the response schema (Draft 2020-12, `$ref`s resolved inside
openapi.yaml; formats are annotations, the schemas carry `pattern`s where the
exact form matters); every header the response documents as required must be
present, and every documented header that is present must match its schema;
`X-Request-Id` is required on every answer of the module. A request under a
mount that names no route must be the 404 error envelope `Not found`.

Answers whose request a raw-socket test wrote itself are named through
t/logs/openapi_access_log (X-Request-Id, status, request line; see
t/conf/extra.conf.in).

Exit status 0 when every answer matches and at least --min answers were
validated, 1 otherwise; the output lists the mismatches (at most --limit).
"""

import argparse
import base64
import collections
import json
import re
import sys
import urllib.parse

import yaml
from jsonschema import Draft202012Validator

# ---- What is not validated, and why ------------------------------------------
# Each id is counted in the output. Keep this table in step with the comment at
# the top of t/zz_openapi.t.
EXCLUSIONS = collections.OrderedDict([
    ('outside-mount',
     'a request outside the mounts (/api/v1, /api/min): httpd answers it, '
     'the module never sees it (e.g. Apache::Test\'s /index.html)'),
    ('httpd-before-handler',
     'httpd\'s own answer to a request it refused before any handler ran '
     '(malformed request line or headers, a header read timeout): recognised '
     'as an answer without X-Request-Id (the module sets it first thing) that '
     'is not JSON, with a status in HTTPD_OWN_STATUSES'),
    ('document-bytes',
     'the bytes of GET /customers/{id}/documents/{side} 200: only their '
     'Content-Type (one the operation lists), Content-Length and headers are '
     'checked'),
    ('lwp-internal',
     'a response LWP made up itself (Client-Warning: Internal response, e.g. '
     'a connection the server closed under a refused upload): not an answer'),
    ('no-answer',
     'a raw socket that got no status line (the server closed it, or the '
     'test stopped reading): nothing to validate'),
    ('interim',
     'a 1xx interim answer (100 Continue) read as if it were the answer'),
])

# While these endpoints are being built, the tree answers their requests the
# way it routes them today: on these paths a 405 needs an Allow header but its
# value is not compared with the spec's, and an answer on /customers/enroll
# that does not fit the spec is checked against /customers/{id}. Counted
# apart; remove an entry when its endpoint lands.
PENDING = collections.OrderedDict()  # every endpoint of openapi.yaml is built
PENDING_FALLBACK = {}

MOUNTS = ('/api/v1', '/api/min')  # conf/cartevo.conf, t/conf/extra.conf.in
# Paths the test configuration rewrites inside a mount (a RewriteRule in
# t/conf/extra.conf.in, for t/api/mount.t): answered as the path they are
# rewritten to, so they are checked as that path.
REWRITES = {'/api/min/people': '/api/min/customers'}
HTTPD_OWN_STATUSES = {400, 408, 413, 414, 417, 431, 501, 505}
METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')


class Spec:
    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            self.doc = yaml.safe_load(f)
        self.validators = {}
        self.routes = []
        for template, item in self.doc['paths'].items():
            self.routes.append((template, self._route_regex(template, item), item))
        # Concrete paths win over templated ones (OpenAPI path matching).
        self.routes.sort(key=lambda r: r[0].count('{'))

    def resolve(self, obj, pointer):
        """Follows $ref chains inside the document: (object, its pointer)."""
        seen = 0
        while isinstance(obj, dict) and '$ref' in obj:
            ref = obj['$ref']
            if not ref.startswith('#/') or seen > 20:
                raise ValueError('cannot resolve %r' % ref)
            pointer = ref[1:]
            obj = self.doc
            for part in pointer[1:].split('/'):
                obj = obj[part.replace('~1', '/').replace('~0', '~')]
            seen += 1
        return obj, pointer

    def _route_regex(self, template, item):
        enums = {}
        for p in item.get('parameters', []) + [
                p for m in METHODS if m in item for p in item[m].get('parameters', [])]:
            p, _ = self.resolve(p, '')
            if p.get('in') == 'path':
                schema, _ = self.resolve(p.get('schema', {}), '')
                if 'enum' in schema:
                    enums[p['name']] = schema['enum']
        out = ''
        for part in re.split(r'(\{[^}]+\})', template):
            if part.startswith('{'):
                name = part[1:-1]
                out += ('(?:%s)' % '|'.join(re.escape(v) for v in enums[name])
                        if name in enums else '[^/]+')
            else:
                out += re.escape(part)
        return re.compile(out + r'\Z')

    def route(self, path):
        for template, rx, item in self.routes:
            if rx.match(path):
                return template, item
        return None, None

    def path_item(self, template):
        return self.doc['paths'][template]

    def validator(self, pointer):
        v = self.validators.get(pointer)
        if v is None:
            # The whole document is the root, so every "#/components/..."
            # resolves in it; its OpenAPI members are not schema keywords.
            root = dict(self.doc)
            root['$ref'] = '#' + '/'.join(
                urllib.parse.quote(p, safe='~') for p in pointer.split('/'))
            v = Draft202012Validator(root)
            self.validators[pointer] = v
        return v


def esc(p):
    return p.replace('~', '~0').replace('/', '~1')


def media_type(value):
    return (value or '').split(';')[0].strip().lower()


def body_bytes(rec):
    if 'body' in rec:
        return rec['body'].encode('utf-8')
    if 'body_b64' in rec:
        return base64.b64decode(rec['body_b64'])
    return None


def header_value(schema, value):
    if schema.get('type') == 'integer' and re.fullmatch(r'-?[0-9]+', value):
        return int(value)
    return value


def describe(rec):
    q = '?' + rec['query'] if rec.get('query') is not None else ''
    where = rec.get('mount') or ''
    return '%s: %s %s%s%s -> %s' % (rec.get('test', '?'), rec.get('method', '?'),
                                    where, rec.get('path', '?'), q, rec.get('status'))


def schema_errors(spec, pointer, instance, limit=3):
    errs = sorted(spec.validator(pointer).iter_errors(instance),
                  key=lambda e: (len(e.path), list(map(str, e.path))))
    out = []
    for e in errs[:limit]:
        loc = '/'.join(str(p) for p in e.path) or '(body)'
        msg = e.message
        if len(msg) > 240:
            msg = msg[:240] + '...'
        out.append('%s: %s' % (loc, msg))
    if len(errs) > limit:
        out.append('... %d more' % (len(errs) - limit))
    return out


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.excluded = collections.Counter()
        self.excluded_examples = collections.defaultdict(list)
        self.pending = collections.Counter()
        self.validated = collections.Counter()
        self.mismatches = []
        self.operations = collections.Counter()

    def exclude(self, why, rec):
        self.excluded[why] += 1
        if len(self.excluded_examples[why]) < 3:
            self.excluded_examples[why].append(describe(rec))

    def fail(self, rec, problems):
        self.mismatches.append((describe(rec), problems))

    # The problems of rec against one response object of the spec.
    def check_response(self, rec, resp, pointer, head, allow_any=False):
        resp, pointer = self.spec.resolve(resp, pointer)
        problems = []
        headers = rec.get('headers') or {}
        documented = {n.lower() for n in (resp.get('headers') or {})}
        if 'x-request-id' not in headers and 'x-request-id' not in documented:
            problems.append('no X-Request-Id header')
        for name, h in (resp.get('headers') or {}).items():
            h, _ = self.spec.resolve(h, '')
            value = headers.get(name.lower())
            if value is None:
                if h.get('required'):
                    problems.append('header %s missing' % name)
                continue
            if name.lower() == 'allow' and allow_any:
                continue
            schema, _ = self.spec.resolve(h.get('schema', {}), '')
            for e in Draft202012Validator(schema).iter_errors(header_value(schema, value)):
                problems.append('header %s: %s' % (name, e.message))
        content = resp.get('content')
        body = body_bytes(rec)
        ctype = media_type(rec.get('content_type'))
        if not content:
            if rec.get('body_len'):
                problems.append('a body where the spec has none')
            return problems, 'json'
        if 'application/json' in content:
            if ctype != 'application/json':
                problems.append('Content-Type %r, not application/json'
                                % rec.get('content_type'))
            if head:
                if rec.get('body_len'):
                    problems.append('HEAD answer with a body')
                return problems, 'json'
            if body is None:
                problems.append('body not recorded (%s bytes)' % rec.get('body_len'))
                return problems, 'json'
            try:
                instance = json.loads(body.decode('utf-8'))
            except ValueError as e:
                problems.append('body is not JSON (%s): %r' % (e, body[:120]))
                return problems, 'json'
            schema_ptr = pointer + '/content/' + esc('application/json') + '/schema'
            problems += schema_errors(self.spec, schema_ptr, instance)
            return problems, 'json'
        # Document bytes: the type and length, not the bytes.
        if ctype not in content:
            problems.append('Content-Type %r, not one of %s'
                            % (rec.get('content_type'), ', '.join(content)))
        length = headers.get('content-length')
        if not head and length is not None and str(rec.get('body_len')) != length:
            problems.append('Content-Length %s but %s bytes' % (length, rec.get('body_len')))
        return problems, 'document-bytes'

    # The problems of rec against the path item `template`: (problems, kind)
    # or (None, None) when the spec has no operation for its method.
    def check_route(self, rec, template, allow_any):
        item = self.spec.path_item(template)
        method = rec['method'].lower()
        head = method == 'head'
        op_method = 'get' if head and 'head' not in item and 'get' in item else method
        base = '/paths/' + esc(template)
        if op_method in item:
            op = item[op_method]
            self.operations['%s %s' % (op_method.upper(), template)] += 1
            resp = op['responses'].get(str(rec['status']))
            if resp is None:
                return (['status %s is not documented for %s %s (documented: %s)'
                         % (rec['status'], op_method.upper(), template,
                            ', '.join(op['responses']))], 'json')
            return self.check_response(
                rec, resp, base + '/' + op_method + '/responses/' + str(rec['status']),
                head, allow_any)
        # A method the path does not list: its 405 (the same in every
        # operation of the path).
        self.operations['other methods on %s' % template] += 1
        for m in METHODS:
            if m in item and '405' in item[m]['responses']:
                if rec['status'] != 405:
                    return (['%s is not a method of %s: expected 405, got %s'
                             % (rec['method'], template, rec['status'])], 'json')
                return self.check_response(
                    rec, item[m]['responses']['405'],
                    base + '/' + m + '/responses/405', head, allow_any)
        return (['%s is not a method of %s, and the path documents no 405'
                 % (rec['method'], template)], 'json')

    def check(self, rec):
        status = rec.get('status') or 0
        headers = rec.get('headers') or {}
        if rec.get('lwp_internal'):
            return self.exclude('lwp-internal', rec)
        if status == 0:
            return self.exclude('no-answer', rec)
        if 100 <= status < 200:
            return self.exclude('interim', rec)
        json_answer = media_type(rec.get('content_type')) == 'application/json'
        if 'x-request-id' not in headers and not json_answer \
                and status in HTTPD_OWN_STATUSES:
            return self.exclude('httpd-before-handler', rec)
        if rec.get('method') is None:
            return self.fail(rec, ['the request of this answer is unknown '
                                   '(no access-log line with its X-Request-Id %r)'
                                   % headers.get('x-request-id')])
        if rec.get('mount') is None:
            return self.exclude('outside-mount', rec)
        path = urllib.parse.unquote(rec['path'])
        rewritten = REWRITES.get(rec['mount'] + path)
        if rewritten:
            path = rewritten[len(rec['mount']):]
        template, _ = self.spec.route(path)
        if template is None:
            return self.check_unrouted(rec)
        allow_any = template in PENDING and status == 405
        problems, kind = self.check_route(rec, template, allow_any)
        if problems and template in PENDING_FALLBACK:
            alt, alt_kind = self.check_route(rec, PENDING_FALLBACK[template], False)
            if not alt:
                self.pending[template] += 1
                self.validated[alt_kind] += 1
                return None
        if allow_any and not problems:
            self.pending[template] += 1
        if problems:
            return self.fail(rec, problems)
        self.validated[kind] += 1
        return None

    # Under a mount, no route: the module's 404 "Not found" error envelope.
    def check_unrouted(self, rec):
        self.operations['(no route)'] += 1
        problems = []
        if 'x-request-id' not in (rec.get('headers') or {}):
            problems.append('no X-Request-Id header')
        if media_type(rec.get('content_type')) != 'application/json':
            problems.append('Content-Type %r, not application/json' % rec.get('content_type'))
        if rec['status'] != 404:
            problems.append('a path with no route must be 404, not %s' % rec['status'])
        body = body_bytes(rec)
        if rec['method'] == 'HEAD':
            if rec.get('body_len'):
                problems.append('HEAD answer with a body')
        elif body is None:
            problems.append('body not recorded')
        else:
            try:
                instance = json.loads(body.decode('utf-8'))
            except ValueError as e:
                instance = None
                problems.append('body is not JSON (%s): %r' % (e, body[:120]))
            if instance is not None:
                problems += schema_errors(self.spec, '/components/schemas/Error', instance)
                if not isinstance(instance, dict) or instance.get('message') != 'Not found' \
                        or instance.get('statusCode') != 404:
                    problems.append('a path with no route must answer 404 "Not found"')
        if problems:
            return self.fail(rec, problems)
        self.validated['json'] += 1
        return None


def split_target(rec, target):
    m = re.match(r'([^?#]*)(?:\?([^#]*))?', target)
    path, query = m.group(1), m.group(2)
    rec['target'] = target
    rec['query'] = query
    rec['mount'] = None
    rec['path'] = path
    for mount in MOUNTS:
        if path.startswith(mount):
            rec['mount'] = mount
            rec['path'] = path[len(mount):]
            break


def load_access_log(path):
    """X-Request-Id -> [(status, method, target)]."""
    by_id = collections.defaultdict(list)
    try:
        f = open(path, encoding='utf-8', errors='replace')
    except FileNotFoundError:
        return by_id
    with f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 3 or parts[0] in ('', '-'):
                continue
            m = re.match(r'(\S+) (\S+)', parts[2])
            if m:
                by_id[parts[0]].append((int(parts[1]) if parts[1].isdigit() else 0,
                                        m.group(1), m.group(2)))
    return by_id


def name_from_access_log(rec, by_id, used):
    rid = (rec.get('headers') or {}).get('x-request-id')
    cands = [c for c in by_id.get(rid, []) if c[0] == rec.get('status')]
    if rid is None or len(cands) != 1:
        return False
    _, method, target = cands[0]
    rec['method'] = method
    rec['named_by'] = 'access-log'
    split_target(rec, target)
    used.add(rid)
    return True


def self_test(spec):
    """The checker on made-up answers: each good one must pass (or be
    excluded), each bad one must be a mismatch. Returns the failures."""
    uid = '9b90a665-fae1-42af-8feb-da942968e4b4'
    base = 'http://127.0.0.1:8080/api/v1/customers/' + uid + '/documents/'
    created = {'id': uid, 'first_name': 'John', 'last_name': 'Doe', 'country': 'Nigeria',
               'email': 'j@example.com', 'street': '1 Main St', 'city': 'Lagos',
               'state': 'Lagos', 'postal_code': '100001', 'phone_country_code': '+234',
               'phone_number': '8012345678', 'identification_number': '12345678901',
               'type': 'NIN', 'number': '12345678901', 'image': base + 'front',
               'photo': None, 'date_of_birth': '1990-01-15T00:00:00.000Z',
               'is_active': True, 'created_at': '2026-11-26T22:22:15.304Z',
               'updated_at': '2026-11-26T22:22:15.304Z'}

    def env(status, message, reason, **extra):
        d = {'success': False, 'statusCode': status, 'message': message, 'error': reason}
        d.update(extra)
        return d

    def rec(method, target, status, body=None, ctype='application/json', rid='r-1',
            **headers):
        r = {'source': 'self-test', 'test': 'self-test', 'method': method, 'status': status,
             'headers': {k.replace('_', '-').lower(): v for k, v in headers.items()},
             'content_type': ctype}
        if rid:
            r['headers']['x-request-id'] = rid
        if ctype:
            r['headers']['content-type'] = ctype
        if method is not None:
            split_target(r, target)
        raw = b'' if body is None else (body if isinstance(body, bytes)
                                       else json.dumps(body).encode())
        r['body_len'] = len(raw)
        if ctype == 'application/json' or ctype is None or ctype.startswith('text/'):
            r['body'] = raw.decode('utf-8', 'replace')
        return r

    token = {'access_token': 'a.b.c', 'token_type': 'Bearer', 'expires_in': 3600}
    ok201 = {'success': True, 'statusCode': 201, 'message': 'Customer created successfully',
             'data': created}
    good = [
        rec('POST', '/api/v1/auth/token', 200, token),
        rec('POST', '/api/v1/customers?enroll=1', 201, ok201),
        rec('HEAD', '/api/v1/customers/' + uid, 200),
        rec('GET', '/api/min/customers/' + uid + '/documents/back', 200, b'\x89PNG',
            'image/png', content_length='4', x_content_type_options='nosniff',
            content_disposition='attachment', cache_control='private, no-store'),
        rec('DELETE', '/api/v1/customers/' + uid, 405,
            env(405, 'Method not allowed', 'Method Not Allowed'), allow='GET, HEAD'),
        rec('PUT', '/api/v1/customers', 405,
            env(405, 'Method not allowed', 'Method Not Allowed'), allow='GET, HEAD, POST'),
        rec('GET', '/api/v1/customers/enroll', 405,
            env(405, 'Method not allowed', 'Method Not Allowed'), allow='POST'),
        rec('GET', '/api/v1/customers/' + uid + '/documents/side', 404,
            env(404, 'Not found', 'Not Found')),
        rec('GET', '/api/v1/customers/' + uid, 503,
            env(503, 'Service temporarily unavailable', 'Service Unavailable'), retry_after='5'),
        rec('POST', '/api/v1/customers', 400, env(
            400, 'nickname is not allowed', 'Bad Request',
            errors=[{'field': 'nickname', 'message': 'nickname is not allowed'}])),
        rec('GET', '/index.html', 200, b'ok', 'text/html', rid=None),
        rec(None, None, 400, b'<html>Bad Request</html>', 'text/html', rid=None),
        rec('GET', '/api/v1/customers', 0, None, None, rid=None),
    ]
    bad = [
        ('a wrong message', rec('GET', '/api/v1/customers/' + uid, 401,
                                env(401, 'Unauthorised', 'Unauthorized'))),
        ('an extra member', rec('POST', '/api/v1/customers', 201,
                                dict(ok201, data=dict(created, kyc_status='PENDING')))),
        ('a timestamp without milliseconds', rec('POST', '/api/v1/customers', 201, dict(
            ok201, data=dict(created, created_at='2026-11-26T22:22:15Z')))),
        ('not JSON content type', rec('POST', '/api/v1/auth/token', 200, token, 'text/plain')),
        ('503 without Retry-After', rec('GET', '/api/v1/customers/' + uid, 503,
                                        env(503, 'Service temporarily unavailable',
                                            'Service Unavailable'))),
        ('a wrong Allow', rec('DELETE', '/api/v1/customers/' + uid, 405,
                              env(405, 'Method not allowed', 'Method Not Allowed'), allow='GET')),
        ('no X-Request-Id', rec('GET', '/api/v1/customers/' + uid, 404,
                                env(404, 'Customer not found', 'Not Found'), rid=None)),
        ('an undocumented status', rec('GET', '/api/v1/customers/' + uid, 418,
                                       env(418, 'Teapot', 'Error'))),
        ('an HTML 500 without X-Request-Id', rec('POST', '/api/v1/customers', 500,
                                                 b'<html>500</html>', 'text/html', rid=None)),
        ('HEAD with a body', rec('HEAD', '/api/v1/customers/' + uid, 200, b'{}')),
        ('no route but 200', rec('GET', '/api/v1/nothing', 200, {'success': True})),
        ('an unknown 400 message', rec('POST', '/api/v1/customers', 400, env(
            400, 'first_name is too short', 'Bad Request',
            errors=[{'field': 'first_name', 'message': 'first_name is too short'}]))),
        ('an errors list on a 401', rec('POST', '/api/v1/customers', 401, env(
            401, 'Unauthorized', 'Unauthorized', errors=[{'field': 'x', 'message': 'y'}]))),
        ('a document type the operation does not list',
         rec('GET', '/api/v1/customers/' + uid + '/documents/front', 200, b'GIF8', 'image/gif',
             content_length='4', x_content_type_options='nosniff',
             content_disposition='attachment', cache_control='private, no-store')),
        ('an unknown request', rec(None, None, 404, env(404, 'Not found', 'Not Found'))),
    ]
    failures = []
    for r in good:
        c = Checker(spec)
        c.check(r)
        if c.mismatches:
            failures.append('good answer flagged: %s: %s' % (describe(r), c.mismatches[0][1]))
    for what, r in bad:
        c = Checker(spec)
        c.check(r)
        if not c.mismatches:
            failures.append('bad answer (%s) not flagged: %s' % (what, describe(r)))
    return failures, len(good) + len(bad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--spec', required=True)
    ap.add_argument('--responses')
    ap.add_argument('--access-log')
    ap.add_argument('--self-test', action='store_true',
                    help='check the checker on made-up answers, good and bad')
    ap.add_argument('--min', type=int, default=20,
                    help='fail when fewer answers than this were validated')
    ap.add_argument('--limit', type=int, default=40, help='mismatches to print')
    ap.add_argument('--list-exclusions', action='store_true')
    args = ap.parse_args()

    if args.list_exclusions:
        for k, v in list(EXCLUSIONS.items()) + list(PENDING.items()):
            print('%s: %s' % (k, v))
        return 0

    spec = Spec(args.spec)
    if args.self_test:
        failures, n = self_test(spec)
        for f in failures:
            print('self-test: ' + f)
        print('openapi_check self-test: %d made-up answers, %d wrong verdicts' % (n, len(failures)))
        return 1 if failures else 0
    if not args.responses or not args.access_log:
        ap.error('--responses and --access-log are required')
    by_id = load_access_log(args.access_log)
    recs = []
    try:
        with open(args.responses, encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    print('openapi_check: %s:%d is not JSON' % (args.responses, n))
                    return 1
    except FileNotFoundError:
        print('openapi_check: %s does not exist: nothing was recorded' % args.responses)
        return 1

    checker = Checker(spec)
    sources = collections.Counter()
    used_ids = set()
    for rec in recs:
        sources[rec.get('source', '?')] += 1
        if rec.get('method') is None and rec.get('status'):
            name_from_access_log(rec, by_id, used_ids)
        checker.check(rec)

    # Answers in the access log under a mount that no test read.
    seen_ids = {(r.get('headers') or {}).get('x-request-id') for r in recs}
    unread = [(rid, c) for rid, cs in by_id.items() for c in cs
              if rid not in seen_ids and any(c[2].startswith(m) for m in MOUNTS)]

    total = sum(checker.validated.values())
    print('openapi_check: %d answers recorded (%s); %d validated against %s '
          '(%d JSON, %d document bytes: type and length only; %d as pending '
          'endpoints), %d excluded, %d mismatches; %d logged by httpd but read '
          'by no test' % (
              len(recs), ', '.join('%s %d' % kv for kv in sorted(sources.items())),
              total, args.spec.split('/')[-1], checker.validated['json'],
              checker.validated['document-bytes'], sum(checker.pending.values()),
              sum(checker.excluded.values()), len(checker.mismatches), len(unread)))
    for why in EXCLUSIONS:
        if checker.excluded[why]:
            print('  excluded %s: %d (e.g. %s)' % (
                why, checker.excluded[why], '; '.join(checker.excluded_examples[why])))
    for template, n in checker.pending.items():
        print('  pending endpoint %s: %d answers accepted as the tree routes them today'
              % (template, n))
    print('  by operation: ' + ', '.join('%s %d' % kv for kv in sorted(checker.operations.items())))
    if unread:
        print('  %d answers in the access log that no test read (clients that '
              'closed first), e.g. %s' % (len(unread), '; '.join(
                  '%s %s -> %s' % (c[1], c[2][:80], c[0]) for _, c in unread[:3])))
    ok = True
    if checker.mismatches:
        ok = False
        print('MISMATCHES (%d):' % len(checker.mismatches))
        for what, problems in checker.mismatches[:args.limit]:
            print('  %s' % what)
            for p in problems:
                print('      %s' % p)
        if len(checker.mismatches) > args.limit:
            print('  ... and %d more' % (len(checker.mismatches) - args.limit))
    if total < args.min:
        ok = False
        print('FAIL: only %d answers validated, fewer than --min %d: is the '
              'recording in t/lib/Cartevo/Test.pm working?' % (total, args.min))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
