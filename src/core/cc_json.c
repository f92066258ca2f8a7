/*
 * cc_json.c: envelopes and the customer object (see cc_json.h).
 */
#include "cc_json.h"

#include <string.h>

const char *cc_json_reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Error";
    }
}

json_object *cc_json_error_new(int status, const char *message)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "success", json_object_new_boolean(0));
    json_object_object_add(o, "statusCode", json_object_new_int(status));
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "error",
                           json_object_new_string(cc_json_reason(status)));
    return o;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

size_t cc_json_clean_field(const char *field, size_t field_len,
                           char out_buf[CC_JSON_FIELD_MAX])
{
    char *clean = out_buf;
    size_t in = 0, out = 0, seq;
    const unsigned char *s = (const unsigned char *)field;

    while (in < field_len && in < 64) {
        seq = utf8_seq(s + in, field_len - in);
        if (seq == 0 || s[in] == 0) {
            memcpy(clean + out, "\xef\xbf\xbd", 3);
            out += 3;
            in++;
            continue;
        }
        if (in + seq > 64) {
            break;
        }
        memcpy(clean + out, s + in, seq);
        out += seq;
        in += seq;
    }
    clean[out] = '\0';
    return out;
}

void cc_json_error_add(json_object *env, const char *field, size_t field_len,
                       const char *message)
{
    char clean[CC_JSON_FIELD_MAX];
    size_t out = cc_json_clean_field(field, field_len, clean);
    json_object *errors, *e;

    if (!json_object_object_get_ex(env, "errors", &errors)) {
        errors = json_object_new_array();
        json_object_object_add(env, "errors", errors);
    }
    e = json_object_new_object();
    json_object_object_add(e, "field", json_object_new_string_len(clean,
                                                                  (int)out));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_array_add(errors, e);
}

json_object *cc_json_success_new(int status, const char *message,
                                 json_object *data)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "statusCode", json_object_new_int(status));
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "data", data);
    return o;
}

const char *cc_json_string(json_object *obj, size_t *len)
{
    return json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static void add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

json_object *cc_json_customer(const cc_customer_t *c, int full)
{
    json_object *o = json_object_new_object();
    char dob[32];

    add_str(o, "id", c->id);
    add_str(o, "first_name", c->first_name);
    add_str(o, "last_name", c->last_name);
    add_str(o, "country", c->country);
    add_str(o, "email", c->email);
    add_str(o, "street", c->street);
    add_str(o, "city", c->city);
    add_str(o, "state", c->state);
    add_str(o, "postal_code", c->postal_code);
    if (full) {
        add_str(o, "country_iso_code", c->country_iso_code);
    }
    add_str(o, "phone_country_code", c->phone_country_code);
    add_str(o, "phone_number", c->phone_number);
    add_str(o, "identification_number", c->identification_number);
    add_str(o, "type", c->type);
    add_str(o, "number", c->identification_number);
    add_str(o, "image", c->image);
    add_str(o, "photo", c->photo);
    if (c->date_of_birth && strlen(c->date_of_birth) == 10) {
        memcpy(dob, c->date_of_birth, 10);
        memcpy(dob + 10, "T00:00:00.000Z", 15);
        add_str(o, "date_of_birth", dob);
    }
    else {
        add_str(o, "date_of_birth", c->date_of_birth);
    }
    json_object_object_add(o, "is_active",
                           json_object_new_boolean(c->is_active));
    add_str(o, "created_at", c->created_at);
    add_str(o, "updated_at", c->updated_at);
    if (full) {
        add_str(o, "kyc_status", c->kyc_status);
        add_str(o, "kyc_reason", c->kyc_reason);
        add_str(o, "kyc_reason_message", c->kyc_reason_message);
        add_str(o, "enrollment_status", c->enrollment_status);
        add_str(o, "issuer_customer_id", c->issuer_customer_id);
    }
    return o;
}

static int is_true(const char *v)
{
    return v && v[0] == 't';
}

void cc_customer_from_row(cc_customer_t *c, const char *const *v,
                          int *has_front, int *has_back)
{
    memset(c, 0, sizeof(*c));
    c->id = v[0];
    c->first_name = v[1];
    c->last_name = v[2];
    c->country = v[3];
    c->email = v[4];
    c->street = v[5];
    c->city = v[6];
    c->state = v[7];
    c->postal_code = v[8];
    c->country_iso_code = v[9];
    c->phone_country_code = v[10];
    c->phone_number = v[11];
    c->identification_number = v[12];
    c->type = v[13];
    c->date_of_birth = v[14];
    c->is_active = is_true(v[15]);
    c->created_at = v[16];
    c->updated_at = v[17];
    c->kyc_status = v[18];
    c->kyc_reason = v[19];
    c->kyc_reason_message = v[20];
    c->enrollment_status = v[21];
    c->issuer_customer_id = v[22];
    *has_front = is_true(v[23]);
    *has_back = is_true(v[24]);
    c->image = v[25];
    c->photo = v[26];
}
