# A rotation falls due 30 days after the last one, at the next 02:00 or 04:30
# Berlin time on a weekday, and the first apply from then on makes it (times
# and days are when it falls due, not a window). Never let a password get
# older than 45 days, and rotate 24 hours after anyone checked it out.
resource "segura_rotation_policy" "database_monthly" {
  name                        = "database-monthly"
  frequency_days              = 30
  allowed_times               = ["02:00", "04:30"]
  allowed_weekdays            = ["monday", "tuesday", "wednesday", "thursday", "friday"]
  time_zone                   = "Europe/Berlin"
  max_age_days                = 45
  rotate_after_exposure_hours = 24

  password_length             = 32
  password_min_lower          = 2
  password_min_upper          = 2
  password_min_digits         = 2
  password_min_symbols        = 1
  password_symbols            = "-._+,="
  password_exclude_lookalikes = true
  password_no_repeats         = true
}
