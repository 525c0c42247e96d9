/*
 * logreg.c — HessianLR from C, through include/hessianlr.h only.
 *
 * L2-regularised logistic regression on the UCI breast cancer data (examples/data), trained by
 * full-batch gradient descent. The learning rate comes from a HessianLR tuner in HOST MODE: on
 * the steps where hlr_tuner_wants_curvature says so, the library receives the gradient and an
 * analytic Hessian-vector-product callback and computes g'g and g'Hg itself. The same training
 * runs with a few constant learning rates for comparison.
 *
 *   make example-c          # builds the library and build/examples/logreg_c, then runs it
 *   build/examples/logreg_c examples/data/breast_cancer.csv
 *
 * Model (features standardised with the population standard deviation, a bias column of ones
 * appended, lambda = 1e-3 on every weight including the bias, matching examples/swift):
 *   p = sigmoid(X w)
 *   L(w) = mean(-y log p - (1 - y) log(1 - p)) + lambda/2 |w|^2
 *   grad = X'(p - y)/n + lambda w
 *   H v  = X' diag(p (1 - p)) X v / n + lambda v
 *
 * Exits with status 1 on any library error (printing hlr_last_error()), 2 on bad input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessianlr.h"

#define LAMBDA 1e-3
#define STEPS 200

/* Every library call goes through CALL: a failure prints the status and the message and exits. */
#define CALL(expr)                                                                          \
    do {                                                                                    \
        int status_ = (expr);                                                               \
        if (status_ != HLR_OK) {                                                            \
            fprintf(stderr, "logreg_c: %s failed: %s (%d)\n  hlr_last_error: %s\n", #expr, \
                    hlr_strerror(status_), status_, hlr_last_error());                      \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

typedef struct {
    size_t n, d;  /* samples, weights (features + bias) */
    double *x;    /* n x d, row-major, standardised, last column 1 */
    double *y;    /* n labels in {0, 1} */
} dataset;

static _Noreturn void die(const char *message, const char *detail) {
    fprintf(stderr, "logreg_c: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (p == NULL) die("out of memory", NULL);
    return p;
}

/* Reads "f0,...,f{k-1},target" lines after a header. */
static dataset load_csv(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) die("cannot open", path);
    static char line[1 << 16];
    if (fgets(line, sizeof line, f) == NULL) die("empty file", path);
    size_t columns = 1;
    for (const char *c = line; *c; c++) columns += *c == ',';
    if (columns < 2) die("need at least one feature and a target", path);
    size_t features = columns - 1, capacity = 1024, n = 0;
    double *raw = xmalloc(capacity * columns * sizeof *raw);
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (n == capacity) {
            capacity *= 2;
            double *grown = realloc(raw, capacity * columns * sizeof *raw);
            if (grown == NULL) die("out of memory", NULL);
            raw = grown;
        }
        char *p = line;
        for (size_t j = 0; j < columns; j++) {
            char *end = NULL;
            double v = strtod(p, &end);
            if (end == p || !isfinite(v)) die("bad number in", path);
            raw[n * columns + j] = v;
            p = end;
            if (j + 1 < columns) {
                if (*p != ',') die("too few columns in", path);
                p++;
            }
        }
        if (*p != '\n' && *p != '\0' && *p != '\r') die("too many columns in", path);
        double label = raw[n * columns + features];
        if (label != 0.0 && label != 1.0) die("target must be 0 or 1 in", path);
        n++;
    }
    fclose(f);
    if (n == 0) die("no rows in", path);

    dataset data = {n, features + 1, xmalloc(n * (features + 1) * sizeof(double)),
                    xmalloc(n * sizeof(double))};
    for (size_t j = 0; j < features; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++) mean += raw[i * columns + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double t = raw[i * columns + j] - mean;
            var += t * t;
        }
        var /= (double)n;
        double scale = var > 0 ? sqrt(var) : 1.0;
        for (size_t i = 0; i < n; i++) data.x[i * data.d + j] = (raw[i * columns + j] - mean) / scale;
    }
    for (size_t i = 0; i < n; i++) {
        data.x[i * data.d + features] = 1.0;
        data.y[i] = raw[i * columns + features];
    }
    free(raw);
    return data;
}

/* ------------------------------------------------------------------------------------------ */
/* The model                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Logits z = X w. */
static void logits(const dataset *data, const double *w, double *z) {
    for (size_t i = 0; i < data->n; i++) z[i] = dot(data->x + i * data->d, w, data->d);
}

static double sigmoid(double z) {
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* Loss at logits z (log(1 + e^-|z|) form: no overflow, no log(0)). */
static double loss(const dataset *data, const double *w, const double *z) {
    double total = 0;
    for (size_t i = 0; i < data->n; i++) {
        double zi = z[i];
        double log1pexp = (zi > 0 ? zi : 0) + log1p(exp(-fabs(zi))); /* log(1 + e^z) */
        total += log1pexp - data->y[i] * zi;
    }
    return total / (double)data->n + 0.5 * LAMBDA * dot(w, w, data->d);
}

static void gradient(const dataset *data, const double *w, const double *z, double *g) {
    for (size_t j = 0; j < data->d; j++) g[j] = LAMBDA * w[j];
    for (size_t i = 0; i < data->n; i++) {
        double r = (sigmoid(z[i]) - data->y[i]) / (double)data->n;
        const double *row = data->x + i * data->d;
        for (size_t j = 0; j < data->d; j++) g[j] += r * row[j];
    }
}

static double accuracy(const dataset *data, const double *z) {
    size_t correct = 0;
    for (size_t i = 0; i < data->n; i++) correct += (z[i] >= 0 ? 1.0 : 0.0) == data->y[i];
    return (double)correct / (double)data->n;
}

/* The HVP callback's context: the data and p(1-p) at the current weights. */
typedef struct {
    const dataset *data;
    double *curvature; /* n: p_i (1 - p_i) */
    double *xv;        /* n: scratch for X v */
    long calls;
} hvp_context;

/* H v = X' diag(p(1-p)) X v / n + lambda v. The library zeroes `out` before the call. */
static int logreg_hvp(void *ctx, const double *v, double *out, size_t n) {
    hvp_context *c = ctx;
    const dataset *data = c->data;
    if (n != data->d) return -1; /* aborts the observation with HLR_ERR_CALLBACK */
    c->calls++;
    for (size_t i = 0; i < data->n; i++)
        c->xv[i] = c->curvature[i] * dot(data->x + i * data->d, v, data->d) / (double)data->n;
    for (size_t j = 0; j < data->d; j++) out[j] = LAMBDA * v[j];
    for (size_t i = 0; i < data->n; i++) {
        const double *row = data->x + i * data->d;
        for (size_t j = 0; j < data->d; j++) out[j] += c->xv[i] * row[j];
    }
    return 0;
}

static void flag_names(unsigned flags, char *out, size_t size) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HLR_FLAG_BOUNDED_LOW, "bounded_low"},   {HLR_FLAG_BOUNDED_HIGH, "bounded_high"},
                 {HLR_FLAG_CLAMPED_MIN, "clamped_min"},   {HLR_FLAG_CLAMPED_MAX, "clamped_max"},
                 {HLR_FLAG_NEGATIVE_CURVATURE, "neg_curv"}, {HLR_FLAG_ZERO_GRADIENT, "zero_grad"},
                 {HLR_FLAG_NOT_DESCENT, "not_descent"}};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & names[i].bit)) continue;
        if (out[0] != '\0') strncat(out, "|", size - strlen(out) - 1);
        strncat(out, names[i].name, size - strlen(out) - 1);
    }
    if (out[0] == '\0') snprintf(out, size, "-");
}

/* ------------------------------------------------------------------------------------------ */
/* Training                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    char name[64];
    double loss, accuracy, final_lr[2];
    size_t groups;
    long hvps;
} result;

/* One training run. tuner == NULL: constant learning rate `constant`. `offsets` (groups + 1
 * entries) splits the weights into parameter groups, NULL for one group. */
static result train(const dataset *data, hlr_tuner *tuner, double constant, const size_t *offsets,
                    size_t groups, int trace) {
    size_t n = data->n, d = data->d;
    double *w = calloc(d, sizeof *w), *g = xmalloc(d * sizeof *g), *z = xmalloc(n * sizeof *z);
    hvp_context ctx = {data, xmalloc(n * sizeof(double)), xmalloc(n * sizeof(double)), 0};
    if (w == NULL) die("out of memory", NULL);
    result r;
    memset(&r, 0, sizeof r);
    r.groups = groups;
    double lrs[2] = {constant, constant};
    if (trace) printf("  %5s  %-12s  %-12s %-12s  %s\n", "step", "loss", groups > 1 ? "lr[weights]" : "lr",
               groups > 1 ? "lr[bias]" : "", "flags of the last update");
    for (uint64_t step = 0; step < STEPS; step++) {
        logits(data, w, z);
        gradient(data, w, z, g);
        int updated = 0;
        if (tuner != NULL) {
            int wants = 0;
            CALL(hlr_tuner_wants_curvature(tuner, step, &wants));
            if (wants) {
                /* Curvature only now: p(1-p) at the current weights for the callback. */
                for (size_t i = 0; i < n; i++) {
                    double p = sigmoid(z[i]);
                    ctx.curvature[i] = p * (1 - p);
                }
                CALL(hlr_tuner_observe_host_f64(tuner, step, g, NULL, d, offsets,
                                                offsets ? groups + 1 : 0, logreg_hvp, &ctx));
                updated = 1;
            }
            CALL(hlr_tuner_get_lrs(tuner, step, lrs, groups));
            if (trace && (step % 10 == 0 || (updated && step < 30) || step == STEPS - 1)) {
                char text[200] = "";
                for (size_t k = 0; k < groups; k++) {
                    double flags = 0;
                    char one[96];
                    CALL(hlr_tuner_get_info(tuner, HLR_INFO_LAST_FLAGS, k, &flags));
                    flag_names((unsigned)flags, one, sizeof one);
                    if (k > 0) strncat(text, " / ", sizeof text - strlen(text) - 1);
                    strncat(text, one, sizeof text - strlen(text) - 1);
                }
                char second[32] = "";
                if (groups > 1) snprintf(second, sizeof second, "%-12.6g", lrs[1]);
                printf("  %5llu  %-12.8f  %-12.6g %-12s  %s%s\n", (unsigned long long)step,
                       loss(data, w, z), lrs[0], second, updated ? "" : "(held) ", text);
            }
        }
        /* w <- w - lr * g, each group with its own rate. */
        for (size_t k = 0; k < groups; k++) {
            size_t lo = offsets ? offsets[k] : 0, hi = offsets ? offsets[k + 1] : d;
            for (size_t j = lo; j < hi; j++) w[j] -= lrs[k] * g[j];
        }
    }
    logits(data, w, z);
    r.loss = loss(data, w, z);
    r.accuracy = accuracy(data, z);
    r.final_lr[0] = lrs[0];
    r.final_lr[1] = lrs[1];
    r.hvps = ctx.calls;
    free(w);
    free(g);
    free(z);
    free(ctx.curvature);
    free(ctx.xv);
    return r;
}

static hlr_tuner *make_tuner(double initial_lr, size_t groups) {
    hlr_tuner *t = NULL;
    CALL(hlr_tuner_create(HLR_METHOD_HESSIANLR, groups, &t));
    CALL(hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, initial_lr));
    CALL(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 5));
    CALL(hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, 100.0));
    return t;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "examples/data/breast_cancer.csv";
    if (hlr_version_number() / 10000 != HLR_VERSION_MAJOR || hlr_version_number() < HLR_VERSION_NUMBER) {
        fprintf(stderr, "logreg_c: library %s does not match header %s\n", hlr_version_string(),
                HLR_VERSION_STRING);
        return 1;
    }
    dataset data = load_csv(path);
    printf("HessianLR from C (libhessianlr %s): logistic regression, %zu samples, %zu weights, "
           "%d full-batch steps, lambda %g\n", hlr_version_string(), data.n, data.d, STEPS, LAMBDA);

    result results[16];
    size_t count = 0;
    const double initials[] = {0.01, 0.1, 1.0};
    for (size_t i = 0; i < 3; i++) {
        hlr_tuner *t = make_tuner(initials[i], 1);
        int trace = i == 0;
        if (trace)
            printf("\nHessianLR, host mode, initial lr %g (update_period 5, lr_max 100): trace\n", initials[i]);
        result r = train(&data, t, 0, NULL, 1, trace);
        snprintf(r.name, sizeof r.name, "hessianlr  eta0=%g", initials[i]);
        results[count++] = r;
        CALL(hlr_tuner_free(t));
    }
    /* Two parameter groups (feature weights | bias), each with its own rate. */
    {
        const size_t offsets[3] = {0, data.d - 1, data.d};
        hlr_tuner *t = make_tuner(0.01, 2);
        CALL(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.1));
        printf("\nHessianLR, two groups (weights | bias), initial lr 0.01 | 0.1: trace\n");
        result r = train(&data, t, 0, offsets, 2, 1);
        snprintf(r.name, sizeof r.name, "hessianlr  eta0=0.01|0.1, 2 groups");
        results[count++] = r;
        CALL(hlr_tuner_free(t));
    }
    const double constants[] = {0.01, 0.1, 1.0, 10.0};
    for (size_t i = 0; i < 4; i++) {
        result r = train(&data, NULL, constants[i], NULL, 1, 0);
        snprintf(r.name, sizeof r.name, "constant   lr=%g", constants[i]);
        results[count++] = r;
    }

    printf("\n%-34s %12s %9s %6s  %s\n", "method", "final loss", "accuracy", "HVPs", "final lr");
    for (size_t i = 0; i < count; i++) {
        char lr[48];
        if (results[i].groups > 1)
            snprintf(lr, sizeof lr, "%.4g | %.4g", results[i].final_lr[0], results[i].final_lr[1]);
        else
            snprintf(lr, sizeof lr, "%.4g", results[i].final_lr[0]);
        printf("%-34s %12.8f %9.4f %6ld  %s\n", results[i].name, results[i].loss, results[i].accuracy,
               results[i].hvps, lr);
    }
    free(data.x);
    free(data.y);
    return 0;
}
