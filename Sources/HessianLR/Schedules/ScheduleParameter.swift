extension ScheduleParameter {
    /// torch's spelling T_0 (`HLR_SCHED_PARAM_T_0`); every other name follows `CatalogEnum`.
    public var name: String { self == .t0 ? "t_0" : snakeCaseName }
}
