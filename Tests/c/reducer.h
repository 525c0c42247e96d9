/*
 * reducer.h — an all-reduce over threads for the tests of the library's all_reduce slots
 * (hlr_step_ops, hlr_vector_ops): P threads stand for P processes. Every rank deposits its
 * array; the last to arrive sums them in rank order (so every rank gets the same bits) and wakes
 * the others; every rank copies the sum out.
 *
 *   hlrt_reducer r; hlrt_reducer_init(&r, P);
 *   hlrt_reduce(&r, rank, values, count)   returns 0, or 99 for count > HLRT_REDUCE_MAX
 *   hlrt_reducer_destroy(&r);
 */
#ifndef HLR_TESTS_REDUCER_H
#define HLR_TESTS_REDUCER_H

#include <pthread.h>
#include <string.h>

enum { HLRT_REDUCE_MAX = 64, HLRT_MAX_RANKS = 8 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int processes, arrived, generation;
    double slots[HLRT_MAX_RANKS][HLRT_REDUCE_MAX];
    double result[HLRT_REDUCE_MAX];
} hlrt_reducer;

static inline void hlrt_reducer_init(hlrt_reducer *r, int processes) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    r->processes = processes;
}

static inline void hlrt_reducer_destroy(hlrt_reducer *r) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
}

/* Sums `values` (count doubles) over the ranks, in place. Blocks until every rank called. */
static inline int hlrt_reduce(hlrt_reducer *r, int rank, double *values, size_t count) {
    if (count > HLRT_REDUCE_MAX) return 99;
    pthread_mutex_lock(&r->lock);
    int generation = r->generation;
    memcpy(r->slots[rank], values, count * sizeof *values);
    if (++r->arrived == r->processes) {
        for (size_t i = 0; i < count; i++) {
            double sum = 0.0;
            for (int p = 0; p < r->processes; p++) sum += r->slots[p][i];
            r->result[i] = sum;
        }
        r->arrived = 0;
        r->generation++;
        pthread_cond_broadcast(&r->changed);
    } else {
        while (r->generation == generation) pthread_cond_wait(&r->changed, &r->lock);
    }
    memcpy(values, r->result, count * sizeof *values);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

#endif
