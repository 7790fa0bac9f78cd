"""The kernel every layer shares: errors, paths, the target model, credentials, processes, the run folder
(markers, measurements, fault journal) and the timeline. It imports nothing else of aftershock."""
